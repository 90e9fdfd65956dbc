/**
 * One training step and one evaluation pass of the crop classifier.
 *   loss = mean over the batch of −log softmax(logits)[label]   (torch.nn.CrossEntropyLoss, mean reduction)
 * Optimiser: AdamW with two groups (backbone at lrBackbone, head at lr), PyTorch semantics (lib/train/optimizer.ts).
 *
 * Dims: B batch, S image side, K classes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNormStats } from '../detr/backbone.js';
import { AdamW } from '../train/optimizer.js';
import { CropClassifier } from './classifier_model.js';
import type { PixelBatch } from './image_cache.js';

export interface StepResult {
  loss: number;
  correct: number;
  count: number;
}

/** Mean cross-entropy of logits [B, K] against labels [B]. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits); // [B, K]
    const picked = tf.sum(tf.mul(logp, tf.oneHot(labels, logits.shape[1])), 1); // [B]
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

export class ClassifierTrainer {
  readonly optimizer: AdamW;
  private readonly names: string[];

  constructor(
    readonly model: CropClassifier,
    o: { lr: number; lrBackbone: number; weightDecay: number },
  ) {
    const p = model.params;
    this.optimizer = new AdamW([
      { name: 'backbone', lr: o.lrBackbone, weightDecay: o.weightDecay, params: p.trainable('backbone') },
      { name: 'head', lr: o.lr, weightDecay: o.weightDecay, params: p.trainable('head') },
    ]);
    this.names = [...p.trainable().keys()];
  }

  /** Forward, backward, one AdamW update at the given learning rates. Reads values with `await data()` (webgpu cannot read synchronously). */
  async step(batch: PixelBatch, lrs: { lr: number; lrBackbone: number }): Promise<StepResult> {
    const b = batch.labels.length,
      s = batch.size;
    const vars = this.names.map((n) => this.model.params.get(n));
    let pred: tf.Tensor1D | undefined;
    // batch norm in train mode: batch statistics in the forward, running statistics moved after the step
    const stats = this.model.cfg.backbone.batchNorm === 'train' ? new BatchNormStats() : undefined;
    const { value, grads } = tf.variableGrads(() => {
      const x = tf.tensor4d(batch.pixels, [b, s, s, 3]); // [B, S, S, 3]
      const logits = this.model.forward(x, stats); // [B, K]
      pred = tf.keep(tf.argMax(logits, 1) as tf.Tensor1D); // [B]
      return crossEntropy(logits, tf.tensor1d(batch.labels, 'int32'));
    }, vars);
    const byName = new Map<string, tf.Tensor>();
    this.names.forEach((n, i) => {
      const g = grads[vars[i].name];
      if (g) byName.set(n, g);
    });
    this.optimizer.setLr('head', lrs.lr);
    this.optimizer.setLr('backbone', lrs.lrBackbone);
    this.optimizer.apply(byName);
    stats?.update(this.model.params);
    tf.dispose(Object.values(grads));
    const [lossArr, p] = await Promise.all([value.data(), pred!.data()]);
    const loss = lossArr[0];
    tf.dispose([value, pred!]);
    if (!Number.isFinite(loss))
      throw new Error(`classifier loss is ${loss} at lr ${lrs.lr} / backbone ${lrs.lrBackbone}`);
    let correct = 0;
    for (let i = 0; i < b; i++) if (p[i] === batch.labels[i]) correct++;
    return { loss, correct, count: b };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/** Predicted labels and summed cross-entropy of one batch (no gradients). */
export async function predictBatch(
  model: CropClassifier,
  batch: PixelBatch,
): Promise<{ pred: Int32Array; lossSum: number }> {
  const b = batch.labels.length,
    s = batch.size;
  const [pred, loss] = tf.tidy(() => {
    const logits = model.forward(tf.tensor4d(batch.pixels, [b, s, s, 3])); // [B, K]
    return [tf.argMax(logits, 1), tf.mul(crossEntropy(logits, tf.tensor1d(batch.labels, 'int32')), b)];
  });
  const [p, l] = await Promise.all([pred.data(), loss.data()]);
  tf.dispose([pred, loss]);
  return { pred: Int32Array.from(p), lossSum: l[0] };
}

/** Cosine decay from `base` to 0 over the run; `t` = epochs done (fractional) / total epochs. */
export const cosineLr = (base: number, t: number): number =>
  base * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, t))));
