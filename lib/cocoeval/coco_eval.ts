/**
 * COCO box evaluation with pycocotools' semantics (cocodataset/cocoapi PythonAPI/pycocotools/cocoeval.py
 * `COCOeval(gt, dt, 'bbox')` → evaluate → accumulate → summarize, and coco.py `loadRes`):
 *
 *   const r = evaluateCoco(gtDataset, detections);   // r.stats: the 12 summarize() numbers
 *   r.summary.forEach((l) => console.log(l));        // the same lines pycocotools prints
 *
 * Inputs are checked first (checks.ts): an unknown image id in the detections is an error, as in
 * `loadRes`; detections of categories absent from the GT are dropped (pycocotools drops them silently;
 * here they are counted and a warning says so); an empty detection list evaluates to 0 where GT exists
 * and −1 elsewhere, with a warning (pycocotools raises IndexError).
 *
 * GT annotation id 0: pycocotools' matcher stores matched ids with 0 meaning "none", so a detection
 * matched to an id-0 annotation counts as a false positive and the annotation stays a miss. That is
 * replicated exactly (the numbers must equal pycocotools'), and a warning tells the user to renumber ids
 * from 1 (the subset writer does).
 */
import type { CocoDataset, CocoResult } from '../coco/types.js';
import { progress } from '../viz/progress.js';
import { accumulateCategory, curveScratch, emptyEvalArrays, EvalArrays } from './accumulate.js';
import { checkDetections, checkGroundTruth } from './checks.js';
import { indexDetections, indexGroundTruth, GtIndex, DtIndex } from './eval_index.js';
import { evaluateGroup, matchScratch, GroupTarget } from './match.js';
import { EvalParams, resolveEvalParams } from './params.js';
import { STAT_NAMES, StatName, summarizeStats, summaryLines } from './summarize.js';

export interface CocoEvalOptions {
  /** Overrides of pycocotools' Params (imgIds, catIds, maxDets, iouThrs, recThrs, areaRng). */
  params?: Partial<EvalParams>;
  /** No progress bar. */
  quiet?: boolean;
  /** Names of the inputs in messages (file paths). */
  gtSource?: string;
  dtSource?: string;
}

export interface CategoryMetrics {
  categoryId: number;
  name: string;
  /** GT annotations of this category in the evaluated images (crowd included) and how many are crowd. */
  numGt: number;
  numCrowd: number;
  /** Detections of this category kept after the per-image maxDet cut. */
  numDets: number;
  /** The 12 stats restricted to this category (`map` is the usual per-class AP, `map_50` AP50). */
  stats: Record<StatName, number>;
}

export interface CocoEvalResult {
  params: EvalParams;
  /** The 12 numbers of `summarize()`, in order. */
  stats: number[];
  statsByName: Record<StatName, number>;
  perCategory: CategoryMetrics[];
  /** precision/scores [T, R, K, A, M], recall [T, K, A, M] (pycocotools `eval`), for PR curves. */
  arrays: EvalArrays;
  /** The 12 lines pycocotools prints. */
  summary: string[];
  warnings: string[];
  counts: {
    images: number;
    categories: number;
    gt: number;
    dets: number;
    detsEvaluated: number;
    detsUnknownCategory: number;
  };
}

export const statsRecord = (stats: number[]): Record<StatName, number> =>
  Object.fromEntries(STAT_NAMES.map((n, i) => [n, stats[i]])) as Record<StatName, number>;

const maxGroupSize = (groupStart: Int32Array): number => {
  let m = 0;
  for (let g = 0; g + 1 < groupStart.length; g++) m = Math.max(m, groupStart[g + 1] - groupStart[g]);
  return m;
};

/** evaluate + accumulate for every category (the evaluation loop, category by category). */
function evaluateAll(gt: GtIndex, dt: DtIndex, p: EvalParams, quiet: boolean): EvalArrays {
  const I = p.imgIds.length,
    K = p.catIds.length,
    A = p.areaRng.length,
    T = p.iouThrs.length;
  const out = emptyEvalArrays(T, p.recThrs.length, K, A, p.maxDets.length);
  const scratch = matchScratch(maxGroupSize(dt.groupStart), maxGroupSize(gt.groupStart));
  let maxCat = 0;
  for (let k = 0; k < K; k++) maxCat = Math.max(maxCat, dt.groupStart[(k + 1) * I] - dt.groupStart[k * I]);
  const curves = curveScratch(maxCat, p.recThrs.length);
  const bar = progress({ total: K, label: 'coco-eval', unit: 'class', quiet: quiet || K * I < 2e5 });
  for (let k = 0; k < K; k++) {
    const catDtStart = dt.groupStart[k * I],
      nk = dt.groupStart[(k + 1) * I] - catDtStart;
    const target: GroupTarget = { status: new Uint8Array(A * T * nk), nk, catDtStart, npig: new Float64Array(A) };
    for (let g = k * I; g < (k + 1) * I; g++) evaluateGroup(gt, dt, g, p.areaRng, p.iouThrs, scratch, target);
    const dets = {
      score: dt.score.subarray(catDtStart, catDtStart + nk),
      rank: dt.rank.subarray(catDtStart, catDtStart + nk),
      nk,
    };
    accumulateCategory(k, dets, target.status, target.npig, p.maxDets, p.recThrs, out, curves);
    bar.tick();
  }
  bar.done();
  return out;
}

function perCategory(gtDs: CocoDataset, gt: GtIndex, dt: DtIndex, e: EvalArrays, p: EvalParams): CategoryMetrics[] {
  const I = p.imgIds.length;
  const names = new Map(gtDs.categories.map((c) => [c.id, String(c.name)]));
  return p.catIds.map((categoryId, k) => {
    let numCrowd = 0;
    for (let r = gt.groupStart[k * I]; r < gt.groupStart[(k + 1) * I]; r++) numCrowd += gt.crowd[r];
    return {
      categoryId,
      name: names.get(categoryId) ?? String(categoryId),
      numGt: gt.groupStart[(k + 1) * I] - gt.groupStart[k * I],
      numCrowd,
      numDets: dt.groupStart[(k + 1) * I] - dt.groupStart[k * I],
      stats: statsRecord(summarizeStats(e, p, k)),
    };
  });
}

/** Evaluates COCO-format detections against a COCO dataset, as pycocotools' COCOeval for 'bbox' does. */
export function evaluateCoco(gtDs: CocoDataset, dets: CocoResult[], opts: CocoEvalOptions = {}): CocoEvalResult {
  const warnings: string[] = [];
  const g = checkGroundTruth(gtDs, warnings, opts.gtSource);
  const unknownCategory = checkDetections(dets, g, warnings, opts.dtSource);
  const p = resolveEvalParams([...g.imageIds], [...g.categoryIds], opts.params);
  const gt = indexGroundTruth(gtDs, p.imgIds, p.catIds);
  const dt = indexDetections(dets, p.imgIds, p.catIds, p.maxDets[p.maxDets.length - 1]);
  const arrays = evaluateAll(gt, dt, p, opts.quiet ?? false);
  const stats = summarizeStats(arrays, p);
  return {
    params: p,
    stats,
    statsByName: statsRecord(stats),
    perCategory: perCategory(gtDs, gt, dt, arrays, p),
    arrays,
    summary: summaryLines(stats, p),
    warnings,
    counts: {
      images: p.imgIds.length,
      categories: p.catIds.length,
      gt: gt.src.length,
      dets: dets.length,
      detsEvaluated: dt.src.length,
      detsUnknownCategory: unknownCategory,
    },
  };
}
