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
import type { PaddedBatch } from '../predict/padded_batch.js';

/** One batch (or one worker's share of it) with the matcher's targets. */
export type TrainBatch = PaddedBatch<DetrTarget>;

export interface LossNormalizers {
  ceWeightSum: number;
  numBoxes: number;
}

/** DETR's denominators for a set of images: Σ class weights over all queries, and Σ boxes (≥ 1). */
export function lossNormalizers(targets: DetrTarget[], numQueries: number, eosCoef: number): LossNormalizers {
  let ce = 0,
    boxes = 0;
  for (const t of targets) {
    const matched = Math.min(numQueries, t.labels.length);
    ce += matched + (numQueries - matched) * eosCoef;
    boxes += t.labels.length;
  }
  return { ceWeightSum: ce, numBoxes: Math.max(1, boxes) };
}

export { sliceBatch, splitBatch } from '../predict/padded_batch.js';
