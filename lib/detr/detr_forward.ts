/**
 * Everything after the backbone: 1×1 input projection, sine position embedding, encoder, decoder,
 * heads. Takes a feature map and its mask so it can run (and be tested) with any feature extractor.
 * Dims: B batch, h w feature map, C backbone channels, S = h·w, D model width, Q queries, L decoder
 * layers, K classes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ParamStore } from './param_store.js';
import { DetrConfig } from './config.js';
import { RunMode } from './nn.js';
import { sinePositionEmbedding } from './position_embedding.js';
import { keyValidFromMask } from './attention.js';
import { encoder, decoder } from './transformer.js';
import { classHead, boxHead } from './heads.js';

/** Model outputs (the names of `DetrObjectDetectionOutput`). */
export type DetrOutput = {
  logits: tf.Tensor3D; // [B, Q, K+1] last decoder layer
  predBoxes: tf.Tensor3D; // [B, Q, 4] cxcywh in (0, 1), relative to each unpadded image
  auxLogits: tf.Tensor4D; // [L-1, B, Q, K+1] earlier decoder layers, first layer first
  auxPredBoxes: tf.Tensor4D; // [L-1, B, Q, 4]
};

/** `model.input_projection` (1×1 conv) as a matMul: [B, h, w, C] → [B, S, D]. */
function inputProjection(p: ParamStore, features: tf.Tensor4D): tf.Tensor3D {
  const [b, h, w, c] = features.shape;
  const wt = tf.reshape(p.get('model.input_projection.weight'), [c, -1]); // [C, D]
  const y = tf.add(tf.matMul(tf.reshape(features, [b * h * w, c]), wt), p.get('model.input_projection.bias')); // [B·S, D]
  return tf.reshape(y, [b, h * w, -1]) as tf.Tensor3D; // [B, S, D] row-major tokens
}

/** Splits per-layer outputs [L, B, Q, X] into the last layer [B, Q, X] and the rest [L-1, B, Q, X]. */
function splitLayers(x: tf.Tensor): [tf.Tensor3D, tf.Tensor4D] {
  const l = x.shape[0];
  const last = tf.squeeze(tf.slice(x, [l - 1, 0, 0, 0], [1, -1, -1, -1]), [0]) as tf.Tensor3D; // [B, Q, X]
  const aux = tf.slice(x, [0, 0, 0, 0], [l - 1, -1, -1, -1]) as tf.Tensor4D; // [L-1, B, Q, X]
  return [last, aux];
}

/** Transformer + heads on a backbone feature map [B, h, w, C] and its mask [B, h, w] (1 = real). */
export function detrFromFeatures(
  p: ParamStore,
  cfg: DetrConfig,
  features: tf.Tensor4D,
  featureMask: tf.Tensor3D,
  mode: RunMode,
): DetrOutput {
  return tf.tidy(() => {
    const [b, h, w] = features.shape;
    const d = cfg.dModel;
    const src = inputProjection(p, features); // [B, S, D]
    const pos = tf.reshape(sinePositionEmbedding(featureMask, d), [b, h * w, d]) as tf.Tensor3D; // [B, S, D]
    const keyValid = keyValidFromMask(tf.reshape(featureMask, [b, h * w])); // [B, 1, 1, S]
    const stack = {
      nHeads: cfg.nHeads,
      dropout: cfg.dropout,
      attentionDropout: cfg.attentionDropout,
      activationDropout: cfg.activationDropout,
    };
    const memory = encoder(p, cfg.encoderLayers, { src, pos, keyValid }, stack, mode); // [B, S, D]
    const queries = p.get('model.query_position_embeddings.weight'); // [Q, D]
    const queryPos = tf.tile(tf.expandDims(queries, 0), [b, 1, 1]) as tf.Tensor3D; // [B, Q, D]
    const hs = decoder(p, cfg.decoderLayers, { memory, pos, keyValid, queryPos }, stack, mode); // [L, B, Q, D]
    const [logits, auxLogits] = splitLayers(classHead(p, hs)); // [B, Q, K+1], [L-1, B, Q, K+1]
    const [predBoxes, auxPredBoxes] = splitLayers(boxHead(p, hs)); // [B, Q, 4], [L-1, B, Q, 4]
    return { logits, predBoxes, auxLogits, auxPredBoxes };
  });
}
