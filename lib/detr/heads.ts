/**
 * Prediction heads shared by every decoder layer (`DetrForObjectDetection`): a linear class head with
 * K+1 outputs (last = no-object) and a 3-layer box MLP with ReLU between layers and a sigmoid at the end.
 * Dims: L decoder layers, B batch, Q queries, D model width, K classes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ParamStore } from './param_store.js';
import { linear } from './nn.js';

export const BOX_MLP_LAYERS = 3;

/** `class_labels_classifier`: [..., D] → [..., K+1] logits. */
export const classHead = (p: ParamStore, hs: tf.Tensor): tf.Tensor => linear(p, 'class_labels_classifier', hs);

/** `bbox_predictor` (DetrMLPPredictionHead) + sigmoid: [..., D] → [..., 4] normalised cxcywh. */
export function boxHead(p: ParamStore, hs: tf.Tensor): tf.Tensor {
  let x = hs; // [..., D]
  for (let i = 0; i < BOX_MLP_LAYERS; i++) {
    x = linear(p, `bbox_predictor.layers.${i}`, x); // [..., D] then [..., 4] at the last layer
    if (i < BOX_MLP_LAYERS - 1) x = tf.relu(x);
  }
  return tf.sigmoid(x); // [..., 4] in (0, 1)
}
