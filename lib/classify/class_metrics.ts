/**
 * Class-balanced classification metrics from true and predicted labels (plain arrays):
 *   confusion[t][p]   count of samples of true class t predicted as p (sklearn `confusion_matrix` layout)
 *   accuracy          trace / total
 *   per-class acc     recall of each class: confusion[c][c] / row sum (null for a class with no samples)
 *   balanced acc      mean recall over the classes that have samples (sklearn `balanced_accuracy_score`)
 *   rare acc          accuracy over the samples whose true class is rare (pooled recall of the rare classes)
 */

export interface ClassMetrics {
  accuracy: number;
  balancedAccuracy: number;
  /** null when no rare class has samples. */
  rareAccuracy: number | null;
  /** By class name; null for a class without samples. */
  perClass: Record<string, number | null>;
  /** Samples per true class. */
  support: Record<string, number>;
  confusion: number[][];
}

export function confusionMatrix(trueLabels: ArrayLike<number>, predLabels: ArrayLike<number>, k: number): number[][] {
  if (trueLabels.length !== predLabels.length)
    throw new Error(`confusionMatrix: ${trueLabels.length} true labels but ${predLabels.length} predictions`);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < trueLabels.length; i++) {
    const t = trueLabels[i],
      p = predLabels[i];
    if (!(t >= 0 && t < k && p >= 0 && p < k))
      throw new Error(`confusionMatrix: label pair (${t}, ${p}) outside 0..${k - 1}`);
    m[t][p]++;
  }
  return m;
}

/** Every metric above from a confusion matrix (rows = true class, in `classes` order). */
export function metricsFromConfusion(
  confusion: number[][],
  classes: readonly string[],
  rare: readonly string[],
): ClassMetrics {
  const rowSum = confusion.map((r) => r.reduce((a, b) => a + b, 0));
  const total = rowSum.reduce((a, b) => a + b, 0);
  const hits = confusion.map((r, c) => r[c]);
  const perClass: Record<string, number | null> = {},
    support: Record<string, number> = {};
  classes.forEach((c, i) => {
    perClass[c] = rowSum[i] > 0 ? hits[i] / rowSum[i] : null;
    support[c] = rowSum[i];
  });
  const present = classes.map((_, i) => i).filter((i) => rowSum[i] > 0);
  const rareIdx = classes.map((c, i) => (rare.includes(c) ? i : -1)).filter((i) => i >= 0 && rowSum[i] > 0);
  const sum = (idx: number[], xs: number[]) => idx.reduce((a, i) => a + xs[i], 0);
  return {
    accuracy: total > 0 ? sum(present, hits) / total : 0,
    balancedAccuracy: present.length ? present.reduce((a, i) => a + hits[i] / rowSum[i], 0) / present.length : 0,
    rareAccuracy: rareIdx.length ? sum(rareIdx, hits) / sum(rareIdx, rowSum) : null,
    perClass,
    support,
    confusion,
  };
}

export const classMetrics = (
  trueLabels: ArrayLike<number>,
  predLabels: ArrayLike<number>,
  classes: readonly string[],
  rare: readonly string[],
): ClassMetrics => metricsFromConfusion(confusionMatrix(trueLabels, predLabels, classes.length), classes, rare);

/** Mean and sample standard deviation (n − 1; 0 for one value), as numpy's std(ddof=1). */
export function meanStd(xs: readonly number[]): { mean: number; std: number; n: number } {
  const n = xs.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}
