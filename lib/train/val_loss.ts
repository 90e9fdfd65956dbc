/**
 * Validation losses: the same set loss as training (`setCriterion`, the model's matcher, loss weights and
 * auxLoss setting) on the val batches' predictions in eval mode (no dropout, no augmentation). Each batch's
 * terms are DETR's per-batch normalised values (loss_ce a weighted mean over queries, loss_bbox/loss_giou per
 * target box, as in the train rows); the split's value is their mean over batches weighted by images.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DetrConfig } from '../detr/config.js';
import { DetrOutput } from '../detr/detr_forward.js';
import { setCriterion, lossValues } from '../detr/criterion.js';
import { DetrTarget } from '../detr/matcher.js';
import type { Prediction } from '../predict/prediction.js';

/** Set-loss terms (unscaled, aux terms `loss_ce_<i>` …) and `loss_total` of one predicted batch. */
export async function predictionLoss(
  pred: Prediction,
  targets: DetrTarget[],
  cfg: DetrConfig,
): Promise<Record<string, number>> {
  const [b, q, k1] = pred.shape;
  const layers = cfg.auxLoss && pred.auxLogits && pred.auxBoxes ? pred.auxLogits.length / (b * q * k1) : 0;
  tf.engine().startScope();
  try {
    const out: DetrOutput = {
      logits: tf.tensor3d(pred.logits, [b, q, k1]),
      predBoxes: tf.tensor3d(pred.boxes, [b, q, 4]), // [B, Q, K+1], [B, Q, 4]
      auxLogits: tf.tensor4d(layers ? pred.auxLogits! : new Float32Array(0), [layers, b, q, k1]), // [L-1, B, Q, K+1]
      auxPredBoxes: tf.tensor4d(layers ? pred.auxBoxes! : new Float32Array(0), [layers, b, q, 4]), // [L-1, B, Q, 4]
    };
    return await lossValues(await setCriterion(out, targets, { ...cfg, auxLoss: layers > 0 }));
  } finally {
    tf.engine().endScope();
  }
}

/** Image-weighted mean of per-batch loss terms. */
export class LossMean {
  private sums: Record<string, number> = {};
  private images = 0;

  add(terms: Record<string, number>, images: number): void {
    for (const [k, v] of Object.entries(terms)) this.sums[k] = (this.sums[k] ?? 0) + v * images;
    this.images += images;
  }

  mean(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.sums).map(([k, v]) => [k, v / Math.max(1, this.images)]));
  }
}
