/**
 * 95 % confidence interval of a mean from n paired differences (one per seed): mean ± t₀.₉₇₅,ₙ₋₁ · s/√n with
 * s the sample std (scipy.stats.t.interval(0.95, n−1, loc=mean, scale=sem)). Student-t quantiles for
 * df 1…30 (scipy.stats.t.ppf(0.975, df), 4 decimals); beyond 30, the normal 1.96.
 */
import { meanStd } from './class_metrics.js';

const T975 = [
  12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.306, 2.2622, 2.2281, 2.201, 2.1788, 2.1604, 2.1448, 2.1314,
  2.1199, 2.1098, 2.1009, 2.093, 2.086, 2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
];

export const tQuantile975 = (df: number): number => (df < 1 ? NaN : df <= 30 ? T975[df - 1] : 1.96);

export interface MeanInterval {
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** Mean and 95 % t-interval; null with fewer than 2 values (no spread to estimate). */
export function meanCi95(xs: readonly number[]): MeanInterval | null {
  if (xs.length < 2) return null;
  const { mean, std, n } = meanStd(xs);
  const h = (tQuantile975(n - 1) * std) / Math.sqrt(n);
  return { mean, lo: mean - h, hi: mean + h, n };
}
