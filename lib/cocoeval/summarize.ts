/**
 * The 12 summary numbers of pycocotools `COCOeval.summarize()` (`_summarizeDets`), their printed lines,
 * and per-category AP. Each number is the mean of the selected precision (or recall) entries that are
 * > −1, or −1 when none are; the mean is summed as numpy's `np.mean` sums (pairwise), so the figures
 * agree with pycocotools to the last bit, not only to the printed 3 decimals. That is numpy ≥ 2, which
 * sums a contiguous array in one pairwise pass; numpy 1.x reduces through an 8192-element buffer (one
 * pairwise sum per block), which can move the last bit of a mean over more than 8192 entries (seen once).
 */
import type { EvalArrays } from './accumulate.js';
import type { EvalParams } from './params.js';

/** Names of the 12 stats, in `summarize()` order (the names torchmetrics' MeanAveragePrecision uses). */
export const STAT_NAMES = [
  'map',
  'map_50',
  'map_75',
  'map_small',
  'map_medium',
  'map_large',
  'mar_1',
  'mar_10',
  'mar_100',
  'mar_small',
  'mar_medium',
  'mar_large',
] as const;
export type StatName = (typeof STAT_NAMES)[number];

interface StatSpec {
  ap: boolean;
  iouThr?: number;
  areaRng: string;
  maxDets: number;
}

/** `_summarizeDets`: note stats[0] uses the literal default maxDets=100, the others `params.maxDets[i]`. */
export const statSpecs = (maxDets: readonly number[]): StatSpec[] => {
  const [m0, m1, m2] = [0, 1, 2].map((i) => maxDets[i] ?? NaN);
  return [
    { ap: true, areaRng: 'all', maxDets: 100 },
    { ap: true, iouThr: 0.5, areaRng: 'all', maxDets: m2 },
    { ap: true, iouThr: 0.75, areaRng: 'all', maxDets: m2 },
    ...['small', 'medium', 'large'].map((areaRng) => ({ ap: true, areaRng, maxDets: m2 })),
    { ap: false, areaRng: 'all', maxDets: m0 },
    { ap: false, areaRng: 'all', maxDets: m1 },
    { ap: false, areaRng: 'all', maxDets: m2 },
    ...['small', 'medium', 'large'].map((areaRng) => ({ ap: false, areaRng, maxDets: m2 })),
  ];
};

/** numpy's pairwise summation of float64 (`DOUBLE_pairwise_sum`, numpy/_core/src/umath/loops_utils.h.src). */
export function pairwiseSum(a: ArrayLike<number>, lo = 0, n = a.length): number {
  if (n < 8) {
    let res = -0.0;
    for (let i = 0; i < n; i++) res += a[lo + i];
    return res;
  }
  if (n <= 128) {
    const r = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => a[lo + j]);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[lo + i + j];
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[lo + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, lo, n2) + pairwiseSum(a, lo + n2, n - n2);
}

/** `np.mean(s[s > -1])`, or −1 when nothing is > −1. */
export function meanValid(values: ArrayLike<number>): number {
  const kept: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] > -1) kept.push(values[i]);
  return kept.length === 0 ? -1 : pairwiseSum(kept) / kept.length;
}

/** Indices of `iouThrs` equal to `thr` (exact comparison, as `np.where(iouThr == p.iouThrs)`). */
const thrIndices = (p: EvalParams, thr?: number): number[] =>
  thr === undefined ? p.iouThrs.map((_, i) => i) : p.iouThrs.flatMap((x, i) => (x === thr ? [i] : []));

/** The values `_summarize` averages, in numpy's C order (t, r, k for AP; t, k for AR). */
function selectValues(e: EvalArrays, p: EvalParams, spec: StatSpec, catIdx?: number): number[] {
  const a = p.areaRngLbl.indexOf(spec.areaRng),
    m = p.maxDets.indexOf(spec.maxDets);
  if (a < 0 || m < 0) return [];
  const { R, K, A, M } = e;
  const ks = catIdx === undefined ? Array.from({ length: K }, (_, k) => k) : [catIdx];
  const out: number[] = [];
  for (const t of thrIndices(p, spec.iouThr)) {
    if (spec.ap)
      for (let r = 0; r < R; r++) for (const k of ks) out.push(e.precision[(((t * R + r) * K + k) * A + a) * M + m]);
    else for (const k of ks) out.push(e.recall[((t * K + k) * A + a) * M + m]);
  }
  return out;
}

/** The 12 stats of `summarize()` (optionally restricted to one category index). */
export const summarizeStats = (e: EvalArrays, p: EvalParams, catIdx?: number): number[] =>
  statSpecs(p.maxDets).map((spec) => meanValid(selectValues(e, p, spec, catIdx)));

/** Python `'{:0.nf}'.format(x)`: like toFixed, but exact binary ties round half to even. */
export function formatFixedPy(x: number, digits: number): string {
  // x·10^d ends in exactly .5 iff x = odd / 2^(d+1) (the 5^d of 10^d must divide the odd numerator).
  const scaled = x * 2 ** (digits + 1);
  if (Number.isInteger(scaled) && Math.abs(scaled) % 2 === 1) {
    const y = x * 10 ** digits; // exact for such x
    const down = Math.floor(y);
    const even = down % 2 === 0 ? down : down + 1;
    return (even / 10 ** digits).toFixed(digits);
  }
  return x.toFixed(digits);
}

/** The printed lines of `summarize()`, byte for byte. */
export function summaryLines(stats: number[], p: EvalParams): string[] {
  const iouAll = `${formatFixedPy(p.iouThrs[0], 2)}:${formatFixedPy(p.iouThrs[p.iouThrs.length - 1], 2)}`;
  return statSpecs(p.maxDets).map((s, i) => {
    const title = (s.ap ? 'Average Precision' : 'Average Recall').padEnd(18);
    const iou = (s.iouThr === undefined ? iouAll : formatFixedPy(s.iouThr, 2)).padEnd(9);
    return ` ${title} ${s.ap ? '(AP)' : '(AR)'} @[ IoU=${iou} | area=${s.areaRng.padStart(6)} | maxDets=${String(s.maxDets).padStart(3)} ] = ${formatFixedPy(stats[i], 3)}`;
  });
}
