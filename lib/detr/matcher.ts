/**
 * Hungarian matching of predictions to targets, without gradients (facebookresearch/detr
 * `models/matcher.py` `HungarianMatcher.forward`): per image, cost[q, t] =
 *   bboxCost·L1(pred_q, tgt_t) + classCost·(−softmax(logits_q)[label_t]) + giouCost·(−GIoU(pred_q, tgt_t)),
 * computed for the whole batch against all targets in float32, read back (awaited: the webgpu backend
 * cannot read synchronously under Node), split per image and solved exactly in plain JS
 * (`linearSumAssignment`, scipy semantics).
 * Dims: B batch, Q queries, K classes, T all targets of the batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Box } from '../box/box_ops.js';
import { cxcywhToXyxyT, giouMatrixXyxyT, l1MatrixT } from '../box/box_tensor.js';
import { MatcherConfig } from './config.js';
import { linearSumAssignment } from './hungarian.js';
import { UserError } from '../params/user_error.js';
import { NonFiniteError, firstNonFinite } from '../engine/finite.js';

/** One image's ground truth: contiguous labels 0..K−1 and normalised cxcywh boxes. */
export interface DetrTarget {
  labels: number[];
  boxesCxcywh: Box[];
}
/** Matched pairs of one image: prediction (query) index ↔ target index, queries ascending. */
export interface Match {
  pred: number[];
  tgt: number[];
}

/** UserError unless there is one target per image with labels in [0, K) and finite 4-number boxes. */
export function validateTargets(targets: DetrTarget[], batch: number, numClasses: number, where = 'targets'): void {
  if (targets.length !== batch)
    throw new UserError(`${where}: ${targets.length} target entries for a batch of ${batch} images`);
  targets.forEach((t, b) => {
    if (t.labels.length !== t.boxesCxcywh.length)
      throw new UserError(`${where}[${b}]: ${t.labels.length} labels but ${t.boxesCxcywh.length} boxes`);
    t.labels.forEach((l, i) => {
      if (!Number.isInteger(l) || l < 0 || l >= numClasses)
        throw new UserError(`${where}[${b}]: label ${l} at ${i} is not an integer in [0, ${numClasses})`);
    });
    t.boxesCxcywh.forEach((bx, i) => {
      if (!Array.isArray(bx) || bx.length !== 4 || !bx.every(Number.isFinite))
        throw new UserError(`${where}[${b}]: box ${i} ${JSON.stringify(bx)} is not 4 finite numbers (cx, cy, w, h)`);
      if (bx[2] < 0 || bx[3] < 0)
        throw new UserError(
          `${where}[${b}]: box ${i} ${JSON.stringify(bx)} has a negative width or height (DETR's generalized_box_iou asserts x1 ≥ x0, y1 ≥ y0)`,
        );
    });
  });
}

/** Per-image cost matrices [Q][T_b] (number arrays, no gradient). */
export async function matchCosts(
  logits: tf.Tensor3D,
  predBoxes: tf.Tensor3D,
  targets: DetrTarget[],
  cfg: MatcherConfig,
): Promise<number[][][]> {
  const [b, q, k1] = logits.shape;
  const sizes = targets.map((t) => t.labels.length);
  const total = sizes.reduce((a, c) => a + c, 0);
  if (total === 0) return targets.map(() => Array.from({ length: q }, () => []));
  const flat = tf.tidy(() => {
    const prob = tf.softmax(tf.reshape(logits, [b * q, k1])); // [B·Q, K+1]
    const boxes = tf.reshape(predBoxes, [b * q, 4]) as tf.Tensor2D; // [B·Q, 4]
    const tgtIds = tf.tensor1d(
      targets.flatMap((t) => t.labels),
      'int32',
    ); // [T]
    const tgtBoxes = tf.tensor2d(
      targets.flatMap((t) => t.boxesCxcywh),
      [total, 4],
    ); // [T, 4]
    const costClass = tf.neg(tf.gather(prob, tgtIds, 1)); // [B·Q, T]
    const costBbox = l1MatrixT(boxes, tgtBoxes); // [B·Q, T]
    const costGiou = tf.neg(
      giouMatrixXyxyT(cxcywhToXyxyT(boxes) as tf.Tensor2D, cxcywhToXyxyT(tgtBoxes) as tf.Tensor2D),
    ); // [B·Q, T]
    return tf.addN([tf.mul(costBbox, cfg.bboxCost), tf.mul(costClass, cfg.classCost), tf.mul(costGiou, cfg.giouCost)]); // [B·Q, T]
  });
  const values = (await flat.data()) as Float32Array;
  flat.dispose();
  // scipy's linear_sum_assignment refuses NaN too ("matrix contains invalid numeric entries"); here the cause
  // is the model's output, so say so (training turns this into its divergence stop).
  if (firstNonFinite(values) >= 0)
    throw new NonFiniteError(
      "the model's predictions hold non-finite values (NaN/Inf), so the matching cost is undefined",
    );
  let offset = 0;
  return sizes.map((n, img) => {
    const rows = Array.from({ length: q }, (_, r) =>
      Array.from(values.subarray((img * q + r) * total + offset, (img * q + r) * total + offset + n)),
    );
    offset += n;
    return rows;
  });
}

/** Optimal one-to-one matching per image (min(Q, T_b) pairs). */
export async function hungarianMatch(
  logits: tf.Tensor3D,
  predBoxes: tf.Tensor3D,
  targets: DetrTarget[],
  cfg: MatcherConfig,
): Promise<Match[]> {
  return (await matchCosts(logits, predBoxes, targets, cfg)).map((cost) => {
    const a = linearSumAssignment(cost);
    return { pred: a.rows, tgt: a.cols };
  });
}
