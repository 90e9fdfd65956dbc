/**
 * The training step's input: one batch (or one worker's share of it) as plain typed arrays, so it can be
 * posted to a worker thread without copies, plus the loss normalisers of the WHOLE batch.
 *
 * Data-parallel exactness: DETR's loss is normalised over the whole batch — cross-entropy is PyTorch's
 * weighted mean Σwᵢ·nllᵢ / Σwᵢ over every query of every image, L1/GIoU are divided by the number of
 * target boxes. Both denominators are known from the targets alone (image b has min(Q, T_b) matched
 * queries of weight 1 and the rest at eosCoef), so a worker that rescales its share's terms by
 * (its denominator / the batch's) produces gradients that sum to exactly the single-process gradient.
 */
import { DetrTarget } from '../detr/matcher.js';

export interface TrainBatch {
  /** [B, H, W, 3] NHWC, normalised, padded bottom/right to the whole batch's H×W. */
  pixels: Float32Array;
  /** [B, H, W], 1 = real pixel. */
  mask: Uint8Array;
  /** [B, H, W]. */
  shape: [number, number, number];
  targets: DetrTarget[];
  imageIds: number[];
}

export interface LossNormalizers { ceWeightSum: number; numBoxes: number }

/** DETR's denominators for a set of images: Σ class weights over all queries, and Σ boxes (≥ 1). */
export function lossNormalizers(targets: DetrTarget[], numQueries: number, eosCoef: number): LossNormalizers {
  let ce = 0, boxes = 0;
  for (const t of targets) {
    const matched = Math.min(numQueries, t.labels.length);
    ce += matched + (numQueries - matched) * eosCoef;
    boxes += t.labels.length;
  }
  return { ceWeightSum: ce, numBoxes: Math.max(1, boxes) };
}

/** Images [from, to) of a batch as its own batch (same padded H×W). */
export function sliceBatch(b: TrainBatch, from: number, to: number): TrainBatch {
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
export function splitBatch(b: TrainBatch, n: number): TrainBatch[] {
  const size = b.shape[0];
  return Array.from({ length: n }, (_, i) => sliceBatch(b, Math.floor((i * size) / n), Math.floor(((i + 1) * size) / n)));
}
