/**
 * Precision / recall / score arrays from per-detection outcomes, pycocotools `COCOeval.accumulate`:
 * for one category, area range and maxDet, the detections of every image (each image's first maxDet)
 * are concatenated in image-id order and sorted by score with a stable sort; cumulative TP/FP give
 * `rc = tp / npig` and `pr = tp / (tp + fp + eps)` (ignored detections repeat the previous point);
 * `pr` is made non-increasing from the right (the envelope) and read at each recall threshold with
 * `searchsorted(rc, recThr, 'left')`; thresholds beyond the last recall keep precision 0.
 * −1 stays where the category has no non-ignored GT in the range.
 *
 * Layouts (C order, as numpy): precision and scores [T, R, K, A, M], recall [T, K, A, M].
 */
import { FP, TP } from './match.js';

/** numpy `np.spacing(1)` = 2^−52. */
const EPS = 2.220446049250313e-16;

export interface EvalArrays {
  T: number;
  R: number;
  K: number;
  A: number;
  M: number;
  /** [T, R, K, A, M] */
  precision: Float64Array;
  /** [T, K, A, M] */
  recall: Float64Array;
  /** [T, R, K, A, M] score of the detection at which each precision value is read. */
  scores: Float64Array;
}

export function emptyEvalArrays(T: number, R: number, K: number, A: number, M: number): EvalArrays {
  return {
    T,
    R,
    K,
    A,
    M,
    precision: new Float64Array(T * R * K * A * M).fill(-1),
    recall: new Float64Array(T * K * A * M).fill(-1),
    scores: new Float64Array(T * R * K * A * M).fill(-1),
  };
}

/** One category's detections: `score[c]`, `rank[c]` (position in its image group) for c in 0..nk-1. */
export interface CategoryDets {
  score: Float64Array;
  rank: Int32Array;
  nk: number;
}

/** Column order of the category's detections after a stable sort by score descending. */
export function sortedColumns(c: CategoryDets): Int32Array {
  const perm = new Int32Array(c.nk);
  for (let i = 0; i < c.nk; i++) perm[i] = i;
  const s = c.score;
  return perm.sort((x, y) => s[y] - s[x] || x - y);
}

/** Scratch buffers of length ≥ nk + 1 for one curve (quantities at each TP). */
export interface CurveScratch {
  prAtTp: Float64Array;
  posOfTp: Int32Array;
  minTp: Int32Array;
}
export const curveScratch = (n: number, R: number): CurveScratch => ({
  prAtTp: new Float64Array(n + 1),
  posOfTp: new Int32Array(n + 1),
  minTp: new Int32Array(R),
});

/**
 * For each recall threshold, the smallest TP count c with `c / npig >= recThr` in floating point. Since
 * c ↦ c / npig is monotone, `searchsorted(rc, recThr, 'left')` is the position of the c-th TP (0 if c = 0).
 */
function minTpForRecall(npig: number, recThrs: readonly number[], out: Int32Array): void {
  for (let r = 0; r < recThrs.length; r++) {
    let c = Math.max(0, Math.ceil(recThrs[r] * npig) - 2);
    while (c / npig < recThrs[r]) c++;
    while (c > 0 && (c - 1) / npig >= recThrs[r]) c--;
    out[r] = c;
  }
}

/**
 * One (t, k, a, m) curve. Precision only rises at a TP and the envelope at the c-th TP's position is the
 * max of `tp / (fp + tp + eps)` over TPs c… (FP and ignored points sit below their preceding TP), so only
 * TP points are computed — bit-identical to evaluating the full arrays as pycocotools does.
 */
function curve(
  st: Uint8Array,
  off: number,
  cols: Int32Array,
  sortedScore: Float64Array,
  npig: number,
  s: CurveScratch,
  out: EvalArrays,
  precAt: (r: number) => number,
  recAt: number,
): void {
  let tp = 0,
    fp = 0;
  const nd = cols.length;
  for (let i = 0; i < nd; i++) {
    const v = st[off + cols[i]];
    if (v === TP) {
      tp++;
      s.prAtTp[tp] = tp / (fp + tp + EPS);
      s.posOfTp[tp] = i;
    } else if (v === FP) fp++;
  }
  out.recall[recAt] = nd ? tp / npig : 0;
  for (let c = tp - 1; c >= 1; c--) if (s.prAtTp[c + 1] > s.prAtTp[c]) s.prAtTp[c] = s.prAtTp[c + 1];
  for (let r = 0; r < out.R; r++) {
    const c = s.minTp[r],
      at = precAt(r);
    if (nd === 0 || c > tp) {
      out.precision[at] = 0;
      out.scores[at] = 0;
      continue;
    }
    const pos = c === 0 ? 0 : s.posOfTp[c];
    out.precision[at] = tp === 0 ? 0 : s.prAtTp[Math.max(c, 1)];
    out.scores[at] = sortedScore[pos];
  }
}

/**
 * Fills precision/recall/scores for category k, all (t, a, m). `status` is [A, T, nk] (match.ts),
 * `npig` [A], `maxDets` sorted ascending, `recThrs` ascending.
 */
export function accumulateCategory(
  k: number,
  c: CategoryDets,
  status: Uint8Array,
  npig: Float64Array,
  maxDets: readonly number[],
  recThrs: readonly number[],
  out: EvalArrays,
  s: CurveScratch,
): void {
  const { T, R, K, A, M } = out;
  const perm = sortedColumns(c);
  for (let m = 0; m < M; m++) {
    const cols = perm.filter((col) => c.rank[col] < maxDets[m]);
    const sortedScore = new Float64Array(cols.length);
    for (let i = 0; i < cols.length; i++) sortedScore[i] = c.score[cols[i]];
    for (let a = 0; a < A; a++) {
      if (npig[a] === 0) continue;
      minTpForRecall(npig[a], recThrs, s.minTp);
      for (let t = 0; t < T; t++) {
        curve(
          status,
          (a * T + t) * c.nk,
          cols,
          sortedScore,
          npig[a],
          s,
          out,
          (r) => (((t * R + r) * K + k) * A + a) * M + m,
          ((t * K + k) * A + a) * M + m,
        );
      }
    }
  }
}
