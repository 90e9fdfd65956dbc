/**
 * DETR's set loss (facebookresearch/detr `models/detr.py` `SetCriterion`, `models/matcher.py`):
 *   loss_ce    cross-entropy over K+1 classes on every query, class weights `empty_weight`
 *              (1 for real classes, eosCoef for no-object), PyTorch's weighted mean Σ wᵢ·nllᵢ / Σ wᵢ
 *   loss_bbox  L1 of matched cxcywh boxes, summed / numBoxes
 *   loss_giou  1 − GIoU of matched boxes, summed / numBoxes
 * numBoxes = all target boxes of the batch, clamped ≥ 1. With auxLoss every earlier decoder layer is
 * matched again and adds `loss_ce_<i>`, `loss_bbox_<i>`, `loss_giou_<i>`. The weights (ce 1, bbox 5,
 * giou 2 by default) are applied in one place, `weightedTotal`; the terms stay unscaled.
 * Only matMul/mul/sum touch the predictions (no gather), so the backward pass needs no
 * UnsortedSegmentSum (missing on wasm). Dims: B batch, Q queries, K classes, N matched pairs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cxcywhToXyxyT, giouPairedXyxyT } from '../box/box_tensor.js';
import { DetrConfig, LossConfig } from './config.js';
import { DetrOutput } from './detr_forward.js';
import { DetrTarget, Match, hungarianMatch, validateTargets } from './matcher.js';

export type LossTerm = 'loss_ce' | 'loss_bbox' | 'loss_giou';
export interface SetLoss {
  /** Σ weight · term over all terms (aux included): what is differentiated. */
  total: tf.Scalar;
  /** Unscaled terms by DETR name: loss_ce, loss_bbox, loss_giou, loss_ce_0, … */
  terms: Record<string, tf.Scalar>;
  /** Matches of the last decoder layer, per image. */
  matches: Match[];
  /** Matches of each earlier decoder layer (empty without auxLoss). */
  auxMatches: Match[][];
}

/** The weight of a term by its name (aux suffix `_<i>` ignored). */
export function lossWeight(name: string, cfg: LossConfig): number {
  const base = name.replace(/_\d+$/, '') as LossTerm;
  const w = { loss_ce: cfg.ceWeight, loss_bbox: cfg.bboxWeight, loss_giou: cfg.giouWeight }[base];
  if (w === undefined) throw new Error(`no loss weight for '${name}'`);
  return w;
}

/** The one place the weights are applied. */
export const weightedTotal = (terms: Record<string, tf.Scalar>, cfg: LossConfig): tf.Scalar =>
  tf.tidy(() => tf.addN(Object.entries(terms).map(([k, v]) => tf.mul(v, lossWeight(k, cfg)))) as tf.Scalar);

/** Σ over a batch of the number of target boxes, clamped ≥ 1 (DETR `num_boxes`). */
export const numBoxes = (targets: DetrTarget[]): number =>
  Math.max(
    1,
    targets.reduce((s, t) => s + t.labels.length, 0),
  );

/** Weighted CE: one-hot of each query's target class scaled by its class weight, [B·Q, K+1], and Σ w. */
function classTargets(
  b: number,
  q: number,
  numClasses: number,
  targets: DetrTarget[],
  matches: Match[],
  eosCoef: number,
): { weighted: Float32Array; weightSum: number } {
  const k1 = numClasses + 1;
  const cls = new Int32Array(b * q).fill(numClasses);
  matches.forEach((m, img) =>
    m.pred.forEach((p, i) => {
      cls[img * q + p] = targets[img].labels[m.tgt[i]];
    }),
  );
  const weighted = new Float32Array(b * q * k1);
  let weightSum = 0;
  cls.forEach((c, i) => {
    const w = c === numClasses ? eosCoef : 1;
    weighted[i * k1 + c] = w;
    weightSum += w;
  });
  return { weighted, weightSum };
}

/** Selection matrix [N, B·Q] picking the matched predictions, and their targets [N, 4]. */
function matchedPairs(
  q: number,
  b: number,
  targets: DetrTarget[],
  matches: Match[],
): { select: Float32Array; tgt: number[][]; n: number } {
  const n = matches.reduce((s, m) => s + m.pred.length, 0);
  const select = new Float32Array(n * b * q);
  const tgt: number[][] = [];
  let row = 0;
  matches.forEach((m, img) =>
    m.pred.forEach((p, i) => {
      select[row++ * b * q + img * q + p] = 1;
      tgt.push(targets[img].boxesCxcywh[m.tgt[i]]);
    }),
  );
  return { select, tgt, n };
}

/** The three unscaled terms of one decoder layer. */
export function layerLosses(
  logits: tf.Tensor3D,
  boxes: tf.Tensor3D,
  targets: DetrTarget[],
  matches: Match[],
  numClasses: number,
  eosCoef: number,
  nBoxes: number,
): Record<LossTerm, tf.Scalar> {
  return tf.tidy(() => {
    const [b, q, k1] = logits.shape;
    const { weighted, weightSum } = classTargets(b, q, numClasses, targets, matches, eosCoef);
    const logp = tf.logSoftmax(tf.reshape(logits, [b * q, k1])); // [B·Q, K+1]
    const lossCe = tf.div(tf.neg(tf.sum(tf.mul(logp, tf.tensor2d(weighted, [b * q, k1])))), weightSum) as tf.Scalar;
    const { select, tgt, n } = matchedPairs(q, b, targets, matches);
    if (n === 0) return { loss_ce: lossCe, loss_bbox: tf.scalar(0), loss_giou: tf.scalar(0) };
    const src = tf.matMul(tf.tensor2d(select, [n, b * q]), tf.reshape(boxes, [b * q, 4])) as tf.Tensor2D; // [N, 4]
    const tgtBoxes = tf.tensor2d(tgt, [n, 4]); // [N, 4]
    const lossBbox = tf.div(tf.sum(tf.abs(tf.sub(src, tgtBoxes))), nBoxes) as tf.Scalar;
    const giou = giouPairedXyxyT(cxcywhToXyxyT(src) as tf.Tensor2D, cxcywhToXyxyT(tgtBoxes) as tf.Tensor2D); // [N]
    const lossGiou = tf.div(tf.sum(tf.sub(1, giou)), nBoxes) as tf.Scalar;
    return { loss_ce: lossCe, loss_bbox: lossBbox, loss_giou: lossGiou };
  });
}

const layerAt = (x: tf.Tensor4D, i: number): tf.Tensor3D =>
  tf.squeeze(tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]), [0]) as tf.Tensor3D; // [B, Q, X]

/**
 * The full set loss of a forward pass. Differentiable w.r.t. `out`; matching reads values only (awaited).
 * Call it inside `variableGradsAsync` (lib/engine) for gradients: the slices it makes for the auxiliary
 * layers must live until the backward pass, so they are left to the enclosing scope.
 */
export async function setCriterion(
  out: DetrOutput,
  targets: DetrTarget[],
  cfg: Pick<DetrConfig, 'numClasses' | 'auxLoss' | 'matcher' | 'loss'>,
): Promise<SetLoss> {
  const [b] = out.logits.shape;
  validateTargets(targets, b, cfg.numClasses);
  const nb = numBoxes(targets);
  const matches = await hungarianMatch(out.logits, out.predBoxes, targets, cfg.matcher);
  const terms: Record<string, tf.Scalar> = {
    ...layerLosses(out.logits, out.predBoxes, targets, matches, cfg.numClasses, cfg.loss.eosCoef, nb),
  };
  const auxMatches: Match[][] = [];
  const auxLayers = cfg.auxLoss ? out.auxLogits.shape[0] : 0;
  for (let i = 0; i < auxLayers; i++) {
    const logits = layerAt(out.auxLogits, i),
      boxes = layerAt(out.auxPredBoxes, i); // [B, Q, K+1], [B, Q, 4]
    const m = await hungarianMatch(logits, boxes, targets, cfg.matcher);
    auxMatches.push(m);
    const layer = layerLosses(logits, boxes, targets, m, cfg.numClasses, cfg.loss.eosCoef, nb);
    for (const [k, v] of Object.entries(layer)) terms[`${k}_${i}`] = v;
  }
  return { total: weightedTotal(terms, cfg.loss), terms, matches, auxMatches };
}

/** Reads every term (and the total as `loss_total`) as numbers, for logging. */
export async function lossValues(loss: SetLoss): Promise<Record<string, number>> {
  const out: Record<string, number> = { loss_total: (await loss.total.data())[0] };
  for (const [k, v] of Object.entries(loss.terms)) out[k] = (await v.data())[0];
  return out;
}
