/**
 * Box operations on tensors (differentiable), for the matcher cost and the set loss.
 * Same semantics and format names as `box_ops.ts`; the last axis holds the 4 coordinates.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Splits the last axis into its 4 coordinates, each [...]. */
const coords = (b: tf.Tensor): tf.Tensor[] => tf.unstack(b, b.rank - 1);

/** [..., 4] cxcywh → [..., 4] xyxy. */
export function cxcywhToXyxyT(b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [cx, cy, w, h] = coords(b); // each [...]
    const hw = tf.mul(w, 0.5),
      hh = tf.mul(h, 0.5); // [...]
    return tf.stack([tf.sub(cx, hw), tf.sub(cy, hh), tf.add(cx, hw), tf.add(cy, hh)], b.rank - 1); // [..., 4]
  });
}

/** IoU/GIoU pieces of broadcast-compatible xyxy tensors a [..., 4], b [..., 4]. */
function giouParts(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const [ax0, ay0, ax1, ay1] = coords(a); // each [...a]
  const [bx0, by0, bx1, by1] = coords(b); // each [...b]
  const areaA = tf.mul(tf.sub(ax1, ax0), tf.sub(ay1, ay0)); // [...a]
  const areaB = tf.mul(tf.sub(bx1, bx0), tf.sub(by1, by0)); // [...b]
  const iw = tf.relu(tf.sub(tf.minimum(ax1, bx1), tf.maximum(ax0, bx0))); // [...] broadcast
  const ih = tf.relu(tf.sub(tf.minimum(ay1, by1), tf.maximum(ay0, by0))); // [...]
  const inter = tf.mul(iw, ih); // [...]
  const union = tf.sub(tf.add(areaA, areaB), inter); // [...]
  const ew = tf.relu(tf.sub(tf.maximum(ax1, bx1), tf.minimum(ax0, bx0))); // [...]
  const eh = tf.relu(tf.sub(tf.maximum(ay1, by1), tf.minimum(ay0, by0))); // [...]
  const enclosing = tf.mul(ew, eh); // [...]
  return tf.sub(tf.div(inter, union), tf.div(tf.sub(enclosing, union), enclosing)); // [...]
}

/** Element-wise GIoU of paired xyxy boxes: a [N, 4], b [N, 4] → [N]. */
export function giouPairedXyxyT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => giouParts(a, b) as tf.Tensor1D);
}

/** GIoU matrix of xyxy boxes: a [N, 4], b [M, 4] → [N, M] (DETR `generalized_box_iou`). */
export function giouMatrixXyxyT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => giouParts(tf.expandDims(a, 1), tf.expandDims(b, 0)) as tf.Tensor2D); // [N,1,4] vs [1,M,4] → [N, M]
}

/** L1 distance matrix (`torch.cdist(a, b, p=1)`): a [N, 4], b [M, 4] → [N, M]. */
export function l1MatrixT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.sum(tf.abs(tf.sub(tf.expandDims(a, 1), tf.expandDims(b, 0))), 2) as tf.Tensor2D); // [N, M]
}
