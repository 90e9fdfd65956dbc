/**
 * DETR's encoder and decoder, post-norm (`normalize_before=False`), with positional terms added where
 * the original adds them (facebookresearch/detr `models/transformer.py` `forward_post`; transformers
 * `modeling_detr.py` `DetrEncoderLayer`, `DetrDecoderLayer`):
 *   encoder self-attn   q = k = x + pos,             v = x
 *   decoder self-attn   q = k = t + queryPos,        v = t
 *   decoder cross-attn  q = t + queryPos, k = memory + pos, v = memory
 * The decoder stream starts at zeros; its final LayerNorm is applied to every layer's output for the heads
 * but never fed back into the stream (original DETR `TransformerDecoder.forward` with `return_intermediate`;
 * HF's `DetrDecoder` with `auxiliary_loss=True` feeds the normed state on, which changes the outputs).
 * Dims: B batch, S = h·w memory tokens, Q queries, D model width, L decoder layers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ParamStore } from './param_store.js';
import { linear, layerNorm, dropout, RunMode } from './nn.js';
import { multiHeadAttention } from './attention.js';

/** Width and dropout of one transformer stack (a slice of DetrConfig). */
export interface StackConfig {
  nHeads: number;
  dropout: number;
  attentionDropout: number;
  activationDropout: number;
}

/** fc2(dropout(relu(fc1(x)))) : [B, T, D] → [B, T, D]. */
function feedForward(p: ParamStore, prefix: string, x: tf.Tensor, cfg: StackConfig, mode: RunMode): tf.Tensor {
  const hidden = dropout(tf.relu(linear(p, `${prefix}.fc1`, x)), cfg.activationDropout, mode); // [B, T, F]
  return linear(p, `${prefix}.fc2`, hidden); // [B, T, D]
}

/** x = LN(x + dropout(branch)) : post-norm residual. */
const residualNorm = (p: ParamStore, ln: string, x: tf.Tensor, branch: tf.Tensor, cfg: StackConfig, mode: RunMode) =>
  layerNorm(p, ln, tf.add(x, dropout(branch, cfg.dropout, mode))); // [B, T, D]

export interface EncoderInputs {
  src: tf.Tensor3D; // [B, S, D] projected features
  pos: tf.Tensor3D; // [B, S, D] sine position embedding
  keyValid: tf.Tensor4D; // [B, 1, 1, S] true = real pixel
}

/** `model.encoder.layers.{i}` for every layer → memory [B, S, D] (no final LayerNorm, as DETR). */
export function encoder(
  p: ParamStore,
  numLayers: number,
  x: EncoderInputs,
  cfg: StackConfig,
  mode: RunMode,
): tf.Tensor3D {
  let h: tf.Tensor = x.src; // [B, S, D]
  for (let i = 0; i < numLayers; i++) {
    const pre = `model.encoder.layers.${i}`;
    const qk = tf.add(h, x.pos) as tf.Tensor3D; // [B, S, D]
    const attn = multiHeadAttention(
      p,
      `${pre}.self_attn`,
      { query: qk, key: qk, value: h as tf.Tensor3D, keyValid: x.keyValid },
      cfg.nHeads,
      cfg.attentionDropout,
      mode,
    );
    h = residualNorm(p, `${pre}.self_attn_layer_norm`, h, attn, cfg, mode); // [B, S, D]
    h = residualNorm(p, `${pre}.final_layer_norm`, h, feedForward(p, pre, h, cfg, mode), cfg, mode); // [B, S, D]
  }
  return h as tf.Tensor3D;
}

export interface DecoderInputs {
  memory: tf.Tensor3D; // [B, S, D] encoder output
  pos: tf.Tensor3D; // [B, S, D]
  keyValid: tf.Tensor4D; // [B, 1, 1, S]
  queryPos: tf.Tensor3D; // [B, Q, D] learned query embedding
}

/** One decoder layer: self-attn, cross-attn, FFN, each post-norm. [B, Q, D] → [B, Q, D]. */
function decoderLayer(
  p: ParamStore,
  pre: string,
  t: tf.Tensor3D,
  x: DecoderInputs,
  cfg: StackConfig,
  mode: RunMode,
): tf.Tensor3D {
  const qk = tf.add(t, x.queryPos) as tf.Tensor3D; // [B, Q, D]
  const self = multiHeadAttention(
    p,
    `${pre}.self_attn`,
    { query: qk, key: qk, value: t },
    cfg.nHeads,
    cfg.attentionDropout,
    mode,
  );
  let h = residualNorm(p, `${pre}.self_attn_layer_norm`, t, self, cfg, mode); // [B, Q, D]
  const cross = multiHeadAttention(
    p,
    `${pre}.encoder_attn`,
    {
      query: tf.add(h, x.queryPos) as tf.Tensor3D, // [B, Q, D]
      key: tf.add(x.memory, x.pos) as tf.Tensor3D, // [B, S, D]
      value: x.memory,
      keyValid: x.keyValid,
    },
    cfg.nHeads,
    cfg.attentionDropout,
    mode,
  ); // [B, Q, D]
  h = residualNorm(p, `${pre}.encoder_attn_layer_norm`, h, cross, cfg, mode); // [B, Q, D]
  return residualNorm(p, `${pre}.final_layer_norm`, h, feedForward(p, pre, h, cfg, mode), cfg, mode) as tf.Tensor3D; // [B, Q, D]
}

/** All decoder layers → every layer's output through `model.decoder.layernorm`: [L, B, Q, D]. */
export function decoder(
  p: ParamStore,
  numLayers: number,
  x: DecoderInputs,
  cfg: StackConfig,
  mode: RunMode,
): tf.Tensor4D {
  let t = tf.zerosLike(x.queryPos) as tf.Tensor3D; // [B, Q, D]
  const outs: tf.Tensor[] = [];
  for (let i = 0; i < numLayers; i++) {
    t = decoderLayer(p, `model.decoder.layers.${i}`, t, x, cfg, mode); // [B, Q, D]
    outs.push(layerNorm(p, 'model.decoder.layernorm', t)); // [B, Q, D] (not fed back)
  }
  return tf.stack(outs) as tf.Tensor4D; // [L, B, Q, D]
}
