/**
 * Quality figures of synthetic images, as pure functions (synth_quality.ts applies them to a synth folder):
 *   edgeIoU          |A ∧ B| / |A ∨ B| of two binary edge maps (nonzero = edge); two empty maps: 1.
 *   recognisability  per prompted class, the fraction of its images a classifier predicts as that class;
 *                    `overall` = all images pooled (not the mean of the classes).
 *   kid              Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs"): the unbiased
 *                    MMD² between two feature sets with the cubic polynomial kernel k(x,y) = (xᵀy/d + 1)³, as
 *                    torchmetrics' KernelInceptionDistance / clean-fid's kernel_distance compute it with one
 *                    subset holding every sample. 0 in expectation for samples of one distribution; no matrix
 *                    square root, so unlike FID it is usable with a few dozen images per class.
 */

export function edgeIoU(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`edge maps differ in size: ${a.length} vs ${b.length}`);
  let inter = 0,
    union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] !== 0,
      y = b[i] !== 0;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}

export interface Recognisability {
  perClass: Record<string, { images: number; recognised: number; fraction: number }>;
  overall: number;
  images: number;
}

/** `prompted[i]` = the class image i was prompted for, `predicted[i]` = the class the classifier says. */
export function recognisability(prompted: readonly string[], predicted: readonly string[]): Recognisability {
  if (prompted.length !== predicted.length)
    throw new Error(`${prompted.length} prompts but ${predicted.length} predictions`);
  const perClass: Recognisability['perClass'] = {};
  let hits = 0;
  prompted.forEach((c, i) => {
    const r = (perClass[c] ??= { images: 0, recognised: 0, fraction: 0 });
    r.images++;
    if (predicted[i] === c) {
      r.recognised++;
      hits++;
    }
  });
  for (const r of Object.values(perClass)) r.fraction = r.recognised / r.images;
  return { perClass, overall: prompted.length ? hits / prompted.length : NaN, images: prompted.length };
}

/** Unbiased MMD² with k(x,y) = (xᵀy/d + 1)³ between feature rows x [m,d] and y [n,d] (m, n ≥ 2). */
export function kid(
  x: Float32Array | Float64Array,
  m: number,
  y: Float32Array | Float64Array,
  n: number,
  d: number,
): number {
  if (m < 2 || n < 2) throw new Error(`KID needs at least 2 samples per set, got ${m} and ${n}`);
  const k = (a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number) => {
    let s = 0;
    for (let t = 0; t < d; t++) s += a[i * d + t] * b[j * d + t];
    return (s / d + 1) ** 3;
  };
  let kxx = 0,
    kyy = 0,
    kxy = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (i !== j) kxx += k(x, i, x, j);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) kyy += k(y, i, y, j);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) kxy += k(x, i, y, j);
  return kxx / (m * (m - 1)) + kyy / (n * (n - 1)) - (2 * kxy) / (m * n);
}
