/**
 * Error analysis of detections against COCO ground truth (the seed's taxonomy, with the matching rule
 * in error_match.ts): counts per class and per object size, a confusion matrix of class errors, and the
 * images with the most errors. Pure: GT dataset + results list in, a JSON-able record out.
 *
 *   const a = analyzeErrors(gt, dets, { iouThr: 0.5, scoreThr: 0.3 });
 *   a.totals.missed; a.confusion.counts[gtIdx][predIdx]; interpret(evalResult.statsByName, a);
 *
 * Attribution: prediction outcomes count for the predicted class; `missed` for the GT's class; the
 * confusion matrix has GT classes as rows and predicted classes as columns. Size buckets use COCO's
 * bounds half-open so each object lands in one: small < 32², medium < 96², large ≥ 96².
 */
import type { CocoAnnotation, CocoDataset, CocoResult } from '../coco/types.js';
import { UserError } from '../params/user_error.js';
import { checkDetections, checkGroundTruth } from '../cocoeval/checks.js';
import { matchImage } from '../eval/error_match.js';

export const OUTCOMES = [
  'tp',
  'crowd',
  'duplicate',
  'cls_error',
  'loc_error',
  'cls_loc_error',
  'false_pos',
  'missed',
] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** The outcomes that are errors, in the order charts stack them. */
export const ERROR_KINDS = ['cls_error', 'loc_error', 'cls_loc_error', 'duplicate', 'false_pos', 'missed'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];
export type OutcomeCounts = Record<Outcome, number>;
export type SizeName = 'small' | 'medium' | 'large';

export interface ErrorAnalysisOptions {
  /** IoU at which a prediction finds a GT. */
  iouThr: number;
  /** Predictions below this score are left out. */
  scoreThr: number;
  /** Analyse only the first N images (ascending id); 0 = all. */
  maxImages: number;
  /** How many of the worst images to list. */
  topImages: number;
}
export const DEFAULT_ERROR_ANALYSIS: ErrorAnalysisOptions = { iouThr: 0.5, scoreThr: 0.3, maxImages: 0, topImages: 10 };

export interface ImageErrors {
  imageId: number;
  fileName: string;
  errors: number;
  counts: OutcomeCounts;
}

export interface ErrorAnalysis {
  options: ErrorAnalysisOptions;
  images: number;
  /** Non-crowd GT objects in the analysed images. */
  gtObjects: number;
  /** Predictions kept (score ≥ scoreThr) in the analysed images. */
  predictions: number;
  totals: OutcomeCounts;
  perClass: Array<{ categoryId: number; name: string; gtObjects: number; predictions: number; counts: OutcomeCounts }>;
  perSize: Record<SizeName, OutcomeCounts>;
  /** cls_error pairs: rows = GT class, columns = predicted class, both in `categoryIds` order. */
  confusion: { categoryIds: number[]; names: string[]; counts: number[][] };
  worstImages: ImageErrors[];
  warnings: string[];
}

export const zeroCounts = (): OutcomeCounts => Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as OutcomeCounts;
export const errorTotal = (c: OutcomeCounts): number => ERROR_KINDS.reduce((s, k) => s + c[k], 0);
export const sizeOf = (area: number): SizeName => (area < 32 ** 2 ? 'small' : area < 96 ** 2 ? 'medium' : 'large');

function resolveOptions(o: Partial<ErrorAnalysisOptions>): ErrorAnalysisOptions {
  const r = { ...DEFAULT_ERROR_ANALYSIS, ...o };
  if (!(r.iouThr > 0 && r.iouThr <= 1)) throw new UserError(`iouThr must be in (0, 1], got ${r.iouThr}`);
  if (!Number.isFinite(r.scoreThr)) throw new UserError(`scoreThr must be a number, got ${r.scoreThr}`);
  if (!(Number.isInteger(r.maxImages) && r.maxImages >= 0))
    throw new UserError(`maxImages must be an integer ≥ 0, got ${r.maxImages}`);
  if (!(Number.isInteger(r.topImages) && r.topImages >= 0))
    throw new UserError(`topImages must be an integer ≥ 0, got ${r.topImages}`);
  return r;
}

/** Per image id: its GT annotations (known categories) and its kept predictions, both in file order. */
function groupByImage(gt: CocoDataset, dets: CocoResult[], imageIds: number[], o: ErrorAnalysisOptions) {
  const cats = new Set(gt.categories.map((c) => c.id));
  const by = new Map(imageIds.map((id) => [id, { gts: [] as CocoAnnotation[], preds: [] as CocoResult[] }]));
  for (const a of gt.annotations) if (cats.has(a.category_id)) by.get(a.image_id)?.gts.push(a);
  for (const d of dets) if (d.score >= o.scoreThr && cats.has(d.category_id)) by.get(d.image_id)?.preds.push(d);
  return by;
}

interface Tally {
  totals: OutcomeCounts;
  perClass: Map<number, OutcomeCounts>;
  perSize: Record<SizeName, OutcomeCounts>;
  confusion: number[][];
  catIndex: Map<number, number>;
}

function count(t: Tally, outcome: Outcome, categoryId: number, area: number): void {
  t.totals[outcome]++;
  t.perClass.get(categoryId)![outcome]++;
  t.perSize[sizeOf(area)][outcome]++;
}

/** Tallies one image; returns its own counts. */
function tallyImage(t: Tally, gts: CocoAnnotation[], preds: CocoResult[], iouThr: number): OutcomeCounts {
  const mine = zeroCounts();
  const m = matchImage(gts, preds, iouThr);
  for (const r of m.predictions) {
    const p = preds[r.index];
    count(t, r.outcome, p.category_id, r.area);
    mine[r.outcome]++;
    if (r.outcome === 'cls_error')
      t.confusion[t.catIndex.get(gts[r.gt].category_id)!][t.catIndex.get(p.category_id)!]++;
  }
  for (const j of m.missed) {
    count(t, 'missed', gts[j].category_id, gts[j].area ?? gts[j].bbox[2] * gts[j].bbox[3]);
    mine.missed++;
  }
  return mine;
}

const newTally = (catIds: number[]): Tally => ({
  totals: zeroCounts(),
  perClass: new Map(catIds.map((id) => [id, zeroCounts()])),
  perSize: { small: zeroCounts(), medium: zeroCounts(), large: zeroCounts() },
  confusion: catIds.map(() => catIds.map(() => 0)),
  catIndex: new Map(catIds.map((id, i) => [id, i])),
});

/** Tallies every analysed image; returns per-image counts and the GT / prediction totals. */
function tallyImages(t: Tally, gt: CocoDataset, dets: CocoResult[], imageIds: number[], o: ErrorAnalysisOptions) {
  const files = new Map(gt.images.map((im) => [im.id, String(im.file_name ?? im.id)]));
  const images: ImageErrors[] = [];
  const gtPerClass = new Map([...t.catIndex.keys()].map((id) => [id, 0]));
  let predictions = 0;
  for (const [imageId, { gts, preds }] of groupByImage(gt, dets, imageIds, o)) {
    const counts = tallyImage(t, gts, preds, o.iouThr);
    images.push({ imageId, fileName: files.get(imageId)!, errors: errorTotal(counts), counts });
    for (const g of gts) if (!g.iscrowd) gtPerClass.set(g.category_id, gtPerClass.get(g.category_id)! + 1);
    predictions += preds.length;
  }
  return { images, gtPerClass, predictions };
}

/** Runs the taxonomy over the dataset's images (sorted by id, the first `maxImages` if set). */
export function analyzeErrors(
  gt: CocoDataset,
  dets: CocoResult[],
  options: Partial<ErrorAnalysisOptions> = {},
): ErrorAnalysis {
  const o = resolveOptions(options);
  const warnings: string[] = [];
  checkDetections(dets, checkGroundTruth(gt, warnings), warnings);
  const catIds = [...new Set(gt.categories.map((c) => c.id))].sort((a, b) => a - b);
  const imageIds = [...new Set(gt.images.map((im) => im.id))].sort((a, b) => a - b).slice(0, o.maxImages || undefined);
  const t = newTally(catIds);
  const { images, gtPerClass, predictions } = tallyImages(t, gt, dets, imageIds, o);
  const names = new Map(gt.categories.map((c) => [c.id, String(c.name)]));
  const predictionsOf = (c: OutcomeCounts) => OUTCOMES.reduce((s, k) => s + (k === 'missed' ? 0 : c[k]), 0);
  return {
    options: o,
    images: imageIds.length,
    gtObjects: [...gtPerClass.values()].reduce((a, b) => a + b, 0),
    predictions,
    totals: t.totals,
    perClass: catIds.map((id) => ({
      categoryId: id,
      name: names.get(id)!,
      gtObjects: gtPerClass.get(id)!,
      predictions: predictionsOf(t.perClass.get(id)!),
      counts: t.perClass.get(id)!,
    })),
    perSize: t.perSize,
    confusion: { categoryIds: catIds, names: catIds.map((id) => names.get(id)!), counts: t.confusion },
    worstImages: images
      .filter((im) => im.errors > 0)
      .sort((a, b) => b.errors - a.errors || a.imageId - b.imageId)
      .slice(0, o.topImages),
    warnings,
  };
}
