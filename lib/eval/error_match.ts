/**
 * The error taxonomy's matching rule, for one image. Written here once; the README quotes it.
 *
 * Inputs: the image's GT annotations (all classes) and its predictions with score ≥ scoreThr, taken
 * in score order (highest first; equal scores keep file order). IoU is box IoU (w·h areas); against a
 * crowd region it is intersection / area(prediction), as in COCOeval.
 *
 * 1. Same-class greedy matching, as COCOeval at one IoU threshold: each prediction takes, among the
 *    not-yet-taken non-crowd GT of its class, the one with the highest IoU ≥ iouThr (ties: the first in
 *    file order) → `tp`. A prediction that takes none but lies in a crowd region of its class
 *    (crowd IoU ≥ iouThr) → `crowd` (ignored: neither right nor wrong).
 * 2. Every other prediction gets the first outcome that applies, looking only at non-crowd GT:
 *    - `duplicate`:     IoU ≥ iouThr with a GT of its class (which a higher-scoring prediction took);
 *    - `cls_error`:     IoU ≥ iouThr with a GT of another class (the highest such IoU names the pair
 *                       gt class → predicted class of the confusion matrix);
 *    - `loc_error`:     right class, 0 < IoU < iouThr with a GT of its class;
 *    - `cls_loc_error`: 0 < IoU < iouThr with GT of other classes only (wrong class and misplaced);
 *    - `false_pos`:     IoU 0 with every GT (background).
 * 3. `missed`: a non-crowd GT that no prediction of its class took in step 1 (even if a prediction of
 *    another class covers it: that prediction is counted as its cls_error).
 * Each outcome carries the area used for its size bucket: the related GT's `area` (tp, duplicate,
 * cls_error, loc_error, cls_loc_error, missed) or the prediction's w·h (false_pos, crowd).
 */
import type { CocoAnnotation, CocoResult } from '../coco/types.js';
import { bbIouAt } from '../cocoeval/iou.js';

export type PredictionOutcome =
  'tp' | 'crowd' | 'duplicate' | 'cls_error' | 'loc_error' | 'cls_loc_error' | 'false_pos';

export interface PredictionResult {
  /** Index of the prediction in the list given to `matchImage`. */
  index: number;
  outcome: PredictionOutcome;
  /** The GT it relates to (index into the image's GT list), −1 for false_pos / crowd. */
  gt: number;
  /** IoU with that GT (0 for false_pos). */
  iou: number;
  /** Area deciding the size bucket. */
  area: number;
}

export interface ImageMatch {
  predictions: PredictionResult[];
  /** Indices (into the image's GT list) of the non-crowd GT never taken in step 1. */
  missed: number[];
}

const boxOf = (b: readonly number[]): Float64Array => Float64Array.from(b);

/** Best GT (index, IoU) among those passing `ok`, by IoU; ties keep the first. */
function best(
  ious: Float64Array,
  gts: CocoAnnotation[],
  ok: (g: CocoAnnotation, j: number) => boolean,
): [number, number] {
  let m = -1,
    v = 0;
  for (let j = 0; j < gts.length; j++)
    if (ok(gts[j], j) && ious[j] > v) {
      m = j;
      v = ious[j];
    }
  return [m, v];
}

/**
 * Step 2 as a table, in order: the first row whose GT set (`same` class or `other` classes, non-crowd only) has
 * a GT with IoU ≥ iouThr (`match`) or any overlap (`overlap`, i.e. 0 < IoU, below iouThr once the rows above
 * failed) gives the outcome; none → `false_pos`. `classify` applies it and `matchingRuleMarkdown`
 * (analysis/matching_rule.ts) prints it, so the rule the reports state is the rule the code runs.
 */
export interface UnmatchedRule {
  outcome: PredictionOutcome;
  gt: 'same' | 'other';
  iou: 'match' | 'overlap';
}
export const UNMATCHED_RULES: readonly UnmatchedRule[] = [
  { outcome: 'duplicate', gt: 'same', iou: 'match' },
  { outcome: 'cls_error', gt: 'other', iou: 'match' },
  { outcome: 'loc_error', gt: 'same', iou: 'overlap' },
  { outcome: 'cls_loc_error', gt: 'other', iou: 'overlap' },
];

/** Step 2 for one prediction that step 1 left unmatched. */
function classify(
  p: CocoResult,
  ious: Float64Array,
  gts: CocoAnnotation[],
  iouThr: number,
): Omit<PredictionResult, 'index'> {
  const regular = (g: CocoAnnotation) => !g.iscrowd;
  const best2 = {
    same: best(ious, gts, (g) => regular(g) && g.category_id === p.category_id),
    other: best(ious, gts, (g) => regular(g) && g.category_id !== p.category_id),
  };
  const gtArea = (j: number) => gts[j].area ?? gts[j].bbox[2] * gts[j].bbox[3];
  for (const rule of UNMATCHED_RULES) {
    const [j, v] = best2[rule.gt];
    const applies = j >= 0 && (rule.iou === 'overlap' || v >= iouThr);
    if (applies) return { outcome: rule.outcome, gt: j, iou: v, area: gtArea(j) };
  }
  return { outcome: 'false_pos', gt: -1, iou: 0, area: p.bbox[2] * p.bbox[3] };
}

/** Applies the rule above to one image. `preds` need not be sorted or filtered by score here. */
export function matchImage(gts: CocoAnnotation[], preds: CocoResult[], iouThr: number): ImageMatch {
  const order = preds.map((_, i) => i).sort((a, b) => preds[b].score - preds[a].score || a - b);
  const gtBoxes = gts.map((g) => boxOf(g.bbox));
  const taken = new Uint8Array(gts.length);
  const results: PredictionResult[] = [];
  for (const i of order) {
    const p = preds[i],
      pb = boxOf(p.bbox);
    const ious = Float64Array.from(gts, (g, j) => bbIouAt(pb, 0, gtBoxes[j], 0, Boolean(g.iscrowd)));
    const [m, v] = best(ious, gts, (g, j) => !g.iscrowd && !taken[j] && g.category_id === p.category_id);
    if (m >= 0 && v >= iouThr) {
      taken[m] = 1;
      results.push({ index: i, outcome: 'tp', gt: m, iou: v, area: gts[m].area ?? gts[m].bbox[2] * gts[m].bbox[3] });
      continue;
    }
    const [c, cv] = best(ious, gts, (g) => Boolean(g.iscrowd) && g.category_id === p.category_id);
    if (c >= 0 && cv >= iouThr) {
      results.push({ index: i, outcome: 'crowd', gt: -1, iou: cv, area: p.bbox[2] * p.bbox[3] });
      continue;
    }
    results.push({ index: i, ...classify(p, ious, gts, iouThr) });
  }
  const missed = gts.flatMap((g, j) => (!g.iscrowd && !taken[j] ? [j] : []));
  return { predictions: results, missed };
}
