/**
 * A DETR training step (forward, Hungarian matching, set loss, backward) that never reads GPU memory
 * synchronously, so it runs on tfjs' webgpu backend under Node: the predictions are read with
 * `await`, matched in plain JS, and the loss is built on those matches under the same gradient tape
 * (variableGradsAsync). The trainer's own step (lib/train/replica.ts) reads with dataSync inside the
 * matcher and so cannot run on webgpu yet; this is the shape such a step takes. Used by
 * tests/engine/webgpu.test.ts (parity with wasm) and bench/webgpu.ts.
 * Dims: B batch, Q queries, K classes (+1 no-object), L decoder layers, T targets of one image.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DetrModel } from '../../lib/detr/model.js';
import { DetrTarget, Match } from '../../lib/detr/matcher.js';
import { MatcherConfig } from '../../lib/detr/config.js';
import { DetrOutput } from '../../lib/detr/detr_forward.js';
import { layerLosses, numBoxes, weightedTotal } from '../../lib/detr/criterion.js';
import { linearSumAssignment } from '../../lib/detr/hungarian.js';
import { Box, cxcywhToXyxy, giouMatrixXyxy, l1Matrix } from '../../lib/box/box_ops.js';
import { Rng } from '../../lib/engine/rng.js';
import { variableGradsAsync } from '../../lib/engine/async_grads.js';
import { AdamW } from '../../lib/train/optimizer.js';

/**
 * DETR's matching cost of one image on plain arrays (facebookresearch/detr `HungarianMatcher.forward`,
 * the same terms as lib/detr/matcher.ts, here in float64):
 * cost[q][t] = bboxCost·L1 + classCost·(−softmax(logits_q)[label_t]) + giouCost·(−GIoU).
 */
export function costFromArrays(
  logits: Float32Array,
  boxes: Float32Array,
  shape: [number, number, number],
  img: number,
  target: DetrTarget,
  cfg: MatcherConfig,
): number[][] {
  const [, q, k1] = shape;
  const pred: Box[] = Array.from(
    { length: q },
    (_, i) => Array.from(boxes.subarray((img * q + i) * 4, (img * q + i + 1) * 4)) as Box,
  );
  const l1 = l1Matrix(pred, target.boxesCxcywh); // [Q][T]
  const giou = giouMatrixXyxy(pred.map(cxcywhToXyxy), target.boxesCxcywh.map(cxcywhToXyxy)); // [Q][T]
  return pred.map((_, i) => {
    const row = logits.subarray((img * q + i) * k1, (img * q + i + 1) * k1);
    const max = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - max), 0);
    return target.labels.map(
      (label, j) =>
        cfg.bboxCost * l1[i][j] - (cfg.classCost * Math.exp(row[label] - max)) / z - cfg.giouCost * giou[i][j],
    );
  });
}

/** The exact assignment per image on those costs. */
export function matchFromArrays(
  logits: Float32Array,
  boxes: Float32Array,
  shape: [number, number, number],
  targets: DetrTarget[],
  cfg: MatcherConfig,
): Match[] {
  return targets.map((t, img) => {
    if (t.labels.length === 0) return { pred: [], tgt: [] };
    const a = linearSumAssignment(costFromArrays(logits, boxes, shape, img, t, cfg));
    return { pred: a.rows, tgt: a.cols };
  });
}

const layerAt = (x: tf.Tensor4D, i: number): tf.Tensor3D =>
  tf.squeeze(tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]), [0]) as tf.Tensor3D; // [B, Q, X]

/** Set loss with given matches per layer ([last, aux 0, aux 1, …]); terms named as setCriterion names them. */
export function lossWithMatches(
  out: DetrOutput,
  targets: DetrTarget[],
  cfg: DetrModel['cfg'],
  matches: Match[][],
): { total: tf.Scalar; terms: Record<string, tf.Scalar> } {
  const nb = numBoxes(targets),
    k = cfg.numClasses,
    eos = cfg.loss.eosCoef;
  const terms: Record<string, tf.Scalar> = {
    ...layerLosses(out.logits, out.predBoxes, targets, matches[0], k, eos, nb),
  };
  for (let i = 0; i + 1 < matches.length; i++) {
    const layer = layerLosses(
      layerAt(out.auxLogits, i),
      layerAt(out.auxPredBoxes, i),
      targets,
      matches[i + 1],
      k,
      eos,
      nb,
    );
    for (const [name, v] of Object.entries(layer)) terms[`${name}_${i}`] = v;
  }
  return { total: weightedTotal(terms, cfg.loss), terms };
}

/** Matches of every layer ([last, aux 0, …]) from the predictions' values. */
async function matchAll(out: DetrOutput, targets: DetrTarget[], cfg: DetrModel['cfg']): Promise<Match[][]> {
  const [b, q, k1] = out.logits.shape;
  const [logits, boxes, auxLogits, auxBoxes] = (await Promise.all([
    out.logits.data(),
    out.predBoxes.data(),
    out.auxLogits.data(),
    out.auxPredBoxes.data(),
  ])) as Float32Array[];
  const matches = [matchFromArrays(logits, boxes, [b, q, k1], targets, cfg.matcher)];
  const aux = cfg.auxLoss ? out.auxLogits.shape[0] : 0;
  for (let i = 0; i < aux; i++) {
    matches.push(
      matchFromArrays(
        auxLogits.subarray(i * b * q * k1, (i + 1) * b * q * k1),
        auxBoxes.subarray(i * b * q * 4, (i + 1) * b * q * 4),
        [b, q, k1],
        targets,
        cfg.matcher,
      ),
    );
  }
  return matches;
}

/** `matches`: from this step's own predictions, per layer [last, aux 0, …] (used unless fixed matches were given). */
export interface AsyncStep {
  terms: Record<string, number>;
  grads: Map<string, tf.Tensor>;
  matches: Match[][];
}

/**
 * Loss terms and gradients (by parameter name) of one training step in train mode, dropout seeded by
 * `dropoutSeed`. With `fixedMatches` the loss uses those instead of its own (parity: same pairs on both backends).
 * The caller disposes the gradient tensors.
 */
export async function asyncDetrStep(
  model: DetrModel,
  pixels: tf.Tensor4D,
  mask: tf.Tensor3D,
  targets: DetrTarget[],
  dropoutSeed: number,
  fixedMatches?: Match[][],
): Promise<AsyncStep> {
  const named = [...model.params.trainable().entries()];
  let matches: Match[][] = [],
    terms: Record<string, number> = {};
  const { value, grads } = await variableGradsAsync(
    async () => {
      const out = model.forward(pixels, mask, true, new Rng(dropoutSeed)); // logits [B, Q, K+1], boxes [B, Q, 4]
      matches = await matchAll(out, targets, model.cfg);
      const loss = lossWithMatches(out, targets, model.cfg, fixedMatches ?? matches);
      const names = Object.keys(loss.terms);
      const values = await tf.stack(names.map((n) => loss.terms[n])).data(); // [terms], one read
      terms = Object.fromEntries(names.map((n, i) => [n, values[i]]));
      return loss.total;
    },
    named.map(([, v]) => v),
  );
  terms.loss_total = (await value.data())[0];
  value.dispose();
  const byName = new Map<string, tf.Tensor>();
  for (const [name, v] of named) if (grads[v.name]) byName.set(name, grads[v.name]);
  return { terms, grads: byName, matches };
}

/**
 * clipGradNorm (lib/train/optimizer.ts, torch `clip_grad_norm_`) with the norm read by `await`:
 * g ← g · min(1, maxNorm / (‖g‖ + 1e-6)). Returns new tensors (inputs untouched) and the pre-clip norm.
 */
export async function clipGradNormAsync(
  grads: Map<string, tf.Tensor>,
  maxNorm: number,
): Promise<{ grads: Map<string, tf.Tensor>; totalNorm: number }> {
  const sq = tf.tidy(() => tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))); // scalar
  const totalNorm = Math.sqrt((await sq.data())[0]);
  sq.dispose();
  const coef = maxNorm > 0 ? Math.min(1, maxNorm / (totalNorm + 1e-6)) : 1;
  return { grads: new Map([...grads].map(([k, g]) => [k, coef === 1 ? g.clone() : tf.mul(g, coef)])), totalNorm };
}

/** A whole optimizer step as the trainer does it (grads, clip, AdamW; lib/train/replica.ts) without sync reads. */
export async function detrTrainStep(
  model: DetrModel,
  opt: AdamW,
  pixels: tf.Tensor4D,
  mask: tf.Tensor3D,
  targets: DetrTarget[],
  dropoutSeed: number,
  clipMaxNorm = 0.1,
): Promise<{ terms: Record<string, number>; gradNorm: number }> {
  const step = await asyncDetrStep(model, pixels, mask, targets, dropoutSeed);
  const clipped = await clipGradNormAsync(step.grads, clipMaxNorm);
  opt.apply(clipped.grads);
  tf.dispose([...step.grads.values(), ...clipped.grads.values()]);
  return { terms: step.terms, gradNorm: clipped.totalNorm };
}
