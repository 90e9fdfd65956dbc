/**
 * Precision, recall and F1 against the score threshold, per class and averaged over classes, at one
 * IoU threshold — the curves Ultralytics plots as P_curve / R_curve / F1_curve
 * (ultralytics/utils/metrics.py `ap_per_class`), computed here from the evaluator's matches:
 *
 * Matching is pycocotools' at one IoU (cocoeval.py `evaluateImg`): per image and class, detections in
 * score order (the 100 best per image, maxDets) each take the unmatched non-crowd GT of their class with
 * the highest IoU ≥ iouThr; a detection that takes none but lies on a crowd region of its class is
 * ignored (neither TP nor FP). lib/eval/error_match.ts `matchImage` implements exactly this as its step 1.
 * Greedy matching in score order does not depend on the threshold (a higher-scoring detection always
 * chooses first), so at threshold t: TP(t) = matched detections with score ≥ t, FP(t) = the other
 * non-ignored detections with score ≥ t, P = TP / (TP + FP) (1 above the class's highest score, as
 * Ultralytics' `np.interp(…, left=1)`; 0 for a class never predicted), R = TP / #GT, F1 = 2PR / (P + R)
 * (0 when P + R = 0).
 * The "all classes" curve is the mean over the classes that have GT (as Ultralytics' `f1.mean(0)`); its
 * F1 maximum is the default score threshold for overlays and the error analysis.
 */
import type { CocoAnnotation, CocoDataset, CocoResult } from '../coco/types.js';
import { matchImage } from './error_match.js';

export interface ClassCurve {
  name: string;
  categoryId: number;
  numGt: number;
  precision: number[];
  recall: number[];
  f1: number[];
}
export interface ConfidenceCurves {
  iouThr: number;
  /** Score thresholds 0, 0.01, …, 1 (a detection counts when score ≥ threshold). */
  thresholds: number[];
  classes: ClassCurve[];
  /** Mean over classes with GT. */
  all: { precision: number[]; recall: number[]; f1: number[] };
  /** The threshold of the highest mean F1 (the lowest such threshold on ties). */
  best: { threshold: number; f1: number; precision: number; recall: number };
}

export const THRESHOLDS: number[] = Array.from({ length: 101 }, (_, i) => i / 100);

/** Per class: scores of matched (TP) and unmatched non-ignored (FP) detections, and the non-crowd GT count. */
export function classMatches(
  gt: CocoDataset,
  dets: CocoResult[],
  iouThr: number,
  maxDets = 100,
): Map<number, { tp: number[]; fp: number[]; numGt: number }> {
  const out = new Map(gt.categories.map((c) => [c.id, { tp: [] as number[], fp: [] as number[], numGt: 0 }]));
  const gtByImage = new Map<number, CocoAnnotation[]>();
  for (const a of gt.annotations) {
    if (!gtByImage.has(a.image_id)) gtByImage.set(a.image_id, []);
    gtByImage.get(a.image_id)!.push(a);
    if (!a.iscrowd) {
      const c = out.get(a.category_id);
      if (c) c.numGt++;
    }
  }
  const dtByImage = new Map<number, CocoResult[]>();
  for (const d of dets) {
    if (!out.has(d.category_id)) continue; // a category the ground truth does not have (COCOeval skips it)
    if (!dtByImage.has(d.image_id)) dtByImage.set(d.image_id, []);
    dtByImage.get(d.image_id)!.push(d);
  }
  const imageIds = new Set(gt.images.map((i) => i.id));
  for (const [imageId, all] of dtByImage) {
    if (!imageIds.has(imageId)) continue;
    // pycocotools keeps maxDets per image and category; DETR's 100 queries make the two the same.
    const byClass = new Map<number, CocoResult[]>();
    for (const d of all) {
      if (!byClass.has(d.category_id)) byClass.set(d.category_id, []);
      byClass.get(d.category_id)!.push(d);
    }
    const preds = [...byClass.values()].flatMap((ds) => [...ds].sort((a, b) => b.score - a.score).slice(0, maxDets));
    const m = matchImage(gtByImage.get(imageId) ?? [], preds, iouThr);
    for (const r of m.predictions) {
      if (r.outcome === 'crowd') continue;
      const p = preds[r.index],
        c = out.get(p.category_id)!;
      (r.outcome === 'tp' ? c.tp : c.fp).push(p.score);
    }
  }
  return out;
}

const countAtLeast = (sorted: number[], t: number): number => {
  let lo = 0,
    hi = sorted.length; // sorted ascending: first index with value ≥ t
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length - lo;
};

export function confidenceCurves(gt: CocoDataset, dets: CocoResult[], iouThr = 0.5): ConfidenceCurves {
  const matches = classMatches(gt, dets, iouThr);
  const classes: ClassCurve[] = [];
  for (const cat of [...gt.categories].sort((a, b) => a.id - b.id)) {
    const m = matches.get(cat.id)!;
    const tp = [...m.tp].sort((a, b) => a - b),
      fp = [...m.fp].sort((a, b) => a - b);
    const precision: number[] = [],
      recall: number[] = [],
      f1: number[] = [];
    for (const t of THRESHOLDS) {
      const ntp = countAtLeast(tp, t),
        nfp = countAtLeast(fp, t);
      const none = tp.length + fp.length === 0; // a class never predicted: precision 0 (Ultralytics leaves it 0)
      const p = none ? 0 : ntp + nfp === 0 ? 1 : ntp / (ntp + nfp),
        r = m.numGt === 0 ? 0 : ntp / m.numGt;
      precision.push(p);
      recall.push(r);
      f1.push(p + r === 0 ? 0 : (2 * p * r) / (p + r));
    }
    classes.push({ name: cat.name, categoryId: cat.id, numGt: m.numGt, precision, recall, f1 });
  }
  const withGt = classes.filter((c) => c.numGt > 0);
  const mean = (key: 'precision' | 'recall' | 'f1') =>
    THRESHOLDS.map((_, i) => (withGt.length ? withGt.reduce((s, c) => s + c[key][i], 0) / withGt.length : 0));
  const all = { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') };
  let b = 0;
  for (let i = 1; i < THRESHOLDS.length; i++) if (all.f1[i] > all.f1[b]) b = i;
  return {
    iouThr,
    thresholds: THRESHOLDS,
    classes,
    all,
    best: { threshold: THRESHOLDS[b], f1: all.f1[b], precision: all.precision[b], recall: all.recall[b] },
  };
}
