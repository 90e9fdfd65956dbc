/**
 * A padded batch as plain typed arrays (what a worker thread receives without copies), and its split into
 * contiguous per-worker shares. Training's `TrainBatch` and the loader's `DetrBatch` are both of this shape.
 */

export interface PaddedBatch<T = unknown> {
  /** [B, H, W, 3] NHWC, normalised, padded bottom/right to the whole batch's H×W. */
  pixels: Float32Array;
  /** [B, H, W], 1 = real pixel. */
  mask: Uint8Array;
  /** [B, H, W]. */
  shape: [number, number, number];
  targets: T[];
  imageIds: number[];
}

/** Images [from, to) of a batch as its own batch (same padded H×W). */
export function sliceBatch<T>(b: PaddedBatch<T>, from: number, to: number): PaddedBatch<T> {
  const [, h, w] = b.shape;
  return {
    pixels: b.pixels.slice(from * h * w * 3, to * h * w * 3),
    mask: b.mask.slice(from * h * w, to * h * w),
    shape: [to - from, h, w],
    targets: b.targets.slice(from, to),
    imageIds: b.imageIds.slice(from, to),
  };
}

/** Splits a batch into `n` contiguous shares as even as possible (some may be empty). */
export function splitBatch<T>(b: PaddedBatch<T>, n: number): Array<PaddedBatch<T>> {
  const size = b.shape[0];
  return Array.from({ length: n }, (_, i) =>
    sliceBatch(b, Math.floor((i * size) / n), Math.floor(((i + 1) * size) / n)),
  );
}
