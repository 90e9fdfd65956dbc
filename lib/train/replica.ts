/**
 * One model replica: forward, set loss, backward on a (share of a) batch; clip and AdamW with the
 * (summed) gradients. The in-process trainer uses one; the data-parallel trainer runs one per worker
 * thread, all applying the same summed gradients so the replicas stay identical.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DetrModel } from '../detr/model.js';
import { setCriterion, lossWeight } from '../detr/criterion.js';
import { Rng } from '../engine/rng.js';
import { variableGradsAsync } from '../engine/async_grads.js';
import { AdamW, gradNormScale } from './optimizer.js';
import { TrainBatch, LossNormalizers, lossNormalizers } from './batch.js';

export interface OptimConfig {
  lr: number;
  lrBackbone: number;
  weightDecay: number;
  clipMaxNorm: number;
}
export interface StepTimings {
  forwardMs: number;
  backwardMs: number;
  matchMs: number;
  /** Wall-clock start of the gradient computation, µs since the epoch (comparable across worker threads). */
  startUs?: number;
}
export interface GradResult {
  terms: Record<string, number>;
  grads: Map<string, tf.Tensor>;
  timings: StepTimings;
}

export class Replica {
  readonly optimizer: AdamW;
  readonly trainableNames: string[];

  constructor(
    readonly model: DetrModel,
    optim: OptimConfig,
  ) {
    const p = model.params;
    this.optimizer = new AdamW([
      { name: 'backbone', lr: optim.lrBackbone, weightDecay: optim.weightDecay, params: p.trainable('backbone') },
      { name: 'transformer', lr: optim.lr, weightDecay: optim.weightDecay, params: p.trainable('transformer') },
    ]);
    this.trainableNames = [...p.trainable().keys()];
  }

  /**
   * Loss and gradients of this share of the batch, with every term rescaled to the whole batch's
   * normalisers (batch.ts), so shares' gradients and terms add up to the single-process values.
   */
  async computeGrads(batch: TrainBatch, whole: LossNormalizers, dropoutSeed: number): Promise<GradResult> {
    const cfg = this.model.cfg;
    const [b, h, w] = batch.shape;
    const timings: StepTimings = { forwardMs: 0, backwardMs: 0, matchMs: 0 };
    if (b === 0) return { terms: {}, grads: new Map(), timings };
    const local = lossNormalizers(batch.targets, cfg.numQueries, cfg.loss.eosCoef);
    const scale = (term: string) =>
      term.startsWith('loss_ce') ? local.ceWeightSum / whole.ceWeightSum : local.numBoxes / whole.numBoxes;
    const scaled: Record<string, tf.Scalar> = {};
    const vars = this.trainableNames.map((n) => this.model.params.get(n));
    const t0 = performance.now();
    timings.startUs = (performance.timeOrigin + t0) * 1000;
    let tFwd = 0;
    const { value, grads } = await variableGradsAsync(async () => {
      const pixels = tf.tensor4d(batch.pixels, [b, h, w, 3]); // [B, H, W, 3]
      const mask = tf.tensor3d(batch.mask, [b, h, w], 'int32'); // [B, H, W]
      const out = this.model.forward(pixels, mask as tf.Tensor3D, true, new Rng(dropoutSeed));
      const tm = performance.now();
      const loss = await setCriterion(out, batch.targets, cfg);
      timings.matchMs = performance.now() - tm; // matching dominates the criterion's own time
      for (const [k, v] of Object.entries(loss.terms)) scaled[k] = tf.keep(tf.mul(v, scale(k)) as tf.Scalar);
      tFwd = performance.now();
      return tf.addN(Object.entries(scaled).map(([k, v]) => tf.mul(v, lossWeight(k, cfg.loss)))) as tf.Scalar;
    }, vars);
    timings.forwardMs = tFwd - t0;
    timings.backwardMs = performance.now() - tFwd;
    const terms: Record<string, number> = { loss_total: (await value.data())[0] };
    for (const [k, v] of Object.entries(scaled)) terms[k] = (await v.data())[0];
    tf.dispose([value, ...Object.values(scaled)]);
    const byName = new Map<string, tf.Tensor>();
    this.trainableNames.forEach((n, i) => {
      const g = grads[vars[i].name];
      if (g) byName.set(n, g);
    });
    return { terms, grads: byName, timings };
  }

  /**
   * Clip (global norm over all gradients) and one AdamW step. Returns the pre-clip norm; a non-finite norm
   * (a NaN/Inf gradient anywhere) applies nothing — weights and moments stay as they were — and
   * `applied: false` tells the caller to stop. Every data-parallel replica sees the same summed gradients,
   * so all of them skip together.
   */
  async apply(
    grads: Map<string, tf.Tensor>,
    clipMaxNorm: number,
    lrs: { lr: number; lrBackbone: number },
  ): Promise<{ gradNorm: number; applied: boolean }> {
    this.optimizer.setLr('transformer', lrs.lr);
    this.optimizer.setLr('backbone', lrs.lrBackbone);
    const { coef, totalNorm } = await gradNormScale(grads, clipMaxNorm);
    const applied = Number.isFinite(totalNorm);
    if (applied) this.optimizer.apply(grads, coef);
    return { gradNorm: totalNorm, applied };
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}
