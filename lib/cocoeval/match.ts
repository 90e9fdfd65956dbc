/**
 * Per-(image, category) matching, pycocotools `COCOeval.evaluateImg` for boxes, for every area range
 * and IoU threshold at once. The outcome of each detection is one byte per (area range, threshold):
 * FP, TP or IGNORED (`dtIgnore`). Matching is done once at the largest maxDet; a smaller maxDet keeps
 * the first detections of each group (greedy in score order, so their outcomes do not change).
 *
 * Rules (evaluateImg):
 * - GT ignored for area range [lo, hi] iff crowd or `area < lo || area > hi`; GT re-ordered ignored-last (stable).
 * - Each detection, best score first, takes among GT not yet taken (crowd GT stay available) the one with
 *   the highest IoU ≥ min(t, 1 − 1e−10); an equal IoU later in the order replaces the earlier one; once a
 *   regular GT is held, the scan stops at the first ignored GT.
 * - Matched to an ignored GT → ignored. Unmatched and its own area (w·h) outside [lo, hi] → ignored.
 * - Matched to a GT whose id is 0 → pycocotools stores 0 = "unmatched": the detection is a FP (or ignored
 *   if outside the range) and the GT stays a miss, although the GT is taken. Replicated (see coco_eval.ts).
 */
import type { GtIndex, DtIndex } from './eval_index.js';
import { bbIouMatrix } from './iou.js';

export const FP = 0,
  TP = 1,
  IGNORED = 2;

/** Reusable buffers sized for the largest group. */
export interface MatchScratch {
  iou: Float64Array;
  order: Int32Array;
  ignored: Uint8Array;
  taken: Uint8Array;
}

export const matchScratch = (maxD: number, maxG: number): MatchScratch => ({
  iou: new Float64Array(Math.max(1, maxD * maxG)),
  order: new Int32Array(maxG),
  ignored: new Uint8Array(maxG),
  taken: new Uint8Array(maxG),
});

export interface GroupTarget {
  /** [A, T, nk] outcomes of one category's detections, nk = its detection count. */
  status: Uint8Array;
  nk: number;
  /** Row of the category's first detection (status column 0). */
  catDtStart: number;
  /** [A] count of non-ignored GT, summed over the category's images. */
  npig: Float64Array;
}

/** Orders a group's GT rows non-ignored first, ignored last (stable), for one area range; returns count kept. */
function orderGt(gt: GtIndex, gs: number, G: number, lo: number, hi: number, s: MatchScratch): number {
  let n = 0;
  for (let j = 0; j < G; j++) {
    const a = gt.area[gs + j];
    if (!(gt.crowd[gs + j] || a < lo || a > hi)) s.order[n++] = j;
  }
  const kept = n;
  for (let j = 0; j < G; j++) {
    const a = gt.area[gs + j];
    if (gt.crowd[gs + j] || a < lo || a > hi) s.order[n++] = j;
  }
  for (let p = 0; p < G; p++) s.ignored[p] = p < kept ? 0 : 1;
  return kept;
}

/** Greedy matching of D detections at one threshold; writes outcomes to `out[off + d]`. */
function matchAtThreshold(
  gt: GtIndex,
  gs: number,
  G: number,
  dt: DtIndex,
  ds: number,
  D: number,
  thr: number,
  lo: number,
  hi: number,
  s: MatchScratch,
  out: Uint8Array,
  off: number,
): void {
  s.taken.fill(0, 0, G);
  for (let d = 0; d < D; d++) {
    let best = Math.min(thr, 1 - 1e-10),
      m = -1;
    for (let p = 0; p < G; p++) {
      const j = s.order[p];
      if (s.taken[p] && !gt.crowd[gs + j]) continue;
      if (m > -1 && s.ignored[m] === 0 && s.ignored[p] === 1) break;
      const v = s.iou[d * G + j];
      if (v < best) continue;
      best = v;
      m = p;
    }
    const area = dt.area[ds + d];
    const outside = area < lo || area > hi;
    if (m === -1) {
      out[off + d] = outside ? IGNORED : FP;
      continue;
    }
    s.taken[m] = 1;
    if (s.ignored[m]) out[off + d] = IGNORED;
    else if (gt.idZero[gs + s.order[m]]) out[off + d] = outside ? IGNORED : FP;
    else out[off + d] = TP;
  }
}

/** No GT in the group: every detection is a FP, or ignored where its area is outside the range. */
function unmatchedGroup(
  dt: DtIndex,
  ds: number,
  D: number,
  areaRng: ReadonlyArray<readonly [number, number]>,
  T: number,
  target: GroupTarget,
): void {
  const col = ds - target.catDtStart;
  for (let a = 0; a < areaRng.length; a++) {
    const [lo, hi] = areaRng[a];
    const first = a * T * target.nk + col;
    for (let d = 0; d < D; d++) {
      const area = dt.area[ds + d];
      const code = area < lo || area > hi ? IGNORED : FP;
      for (let t = 0; t < T; t++) target.status[first + t * target.nk + d] = code;
    }
  }
}

/** Evaluates group g = (category k, image i) for all area ranges and thresholds into `target`. */
export function evaluateGroup(
  gt: GtIndex,
  dt: DtIndex,
  g: number,
  areaRng: ReadonlyArray<readonly [number, number]>,
  iouThrs: readonly number[],
  s: MatchScratch,
  target: GroupTarget,
): void {
  const gs = gt.groupStart[g],
    G = gt.groupStart[g + 1] - gs;
  const ds = dt.groupStart[g],
    D = dt.groupStart[g + 1] - ds;
  if (G === 0 && D === 0) return;
  if (G === 0) return unmatchedGroup(dt, ds, D, areaRng, iouThrs.length, target);
  bbIouMatrix(dt.box, ds, D, gt.box, gs, G, gt.crowd, s.iou);
  const T = iouThrs.length,
    col = ds - target.catDtStart;
  for (let a = 0; a < areaRng.length; a++) {
    const [lo, hi] = areaRng[a];
    target.npig[a] += orderGt(gt, gs, G, lo, hi, s);
    for (let t = 0; t < T; t++) {
      matchAtThreshold(gt, gs, G, dt, ds, D, iouThrs[t], lo, hi, s, target.status, (a * T + t) * target.nk + col);
    }
  }
}
