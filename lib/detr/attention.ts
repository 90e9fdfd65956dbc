/**
 * Multi-head attention as `DetrAttention` (Hugging Face) / `nn.MultiheadAttention` (original DETR):
 * q, k, v projections (with bias), q scaled by head_dim^-0.5 after its projection, softmax over keys with
 * padded keys excluded, optional dropout on the weights, output projection. Batched matMul + transpose
 * only (tf.einsum has no gradient in tfjs).
 * Dims: B batch, Tq query tokens, Tk key tokens, D model width, H heads, Dh = D / H.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ParamStore } from './param_store.js';
import { linear, dropout, RunMode } from './nn.js';

/** The most negative finite float32: a masked score gets exactly 0 weight, and an all-masked row stays finite. */
const MASKED_SCORE = -3.4028234663852886e38;

export interface AttentionInputs {
  query: tf.Tensor3D; // [B, Tq, D] (positional terms already added where DETR adds them)
  key: tf.Tensor3D; // [B, Tk, D]
  value: tf.Tensor3D; // [B, Tk, D]
  /** true where the key is a real position; [B, 1, 1, Tk]. Absent = every key is real. */
  keyValid?: tf.Tensor4D;
}

const splitHeads = (x: tf.Tensor, nHeads: number): tf.Tensor4D => {
  const [b, t, d] = x.shape;
  return tf.transpose(tf.reshape(x, [b, t, nHeads, d / nHeads]), [0, 2, 1, 3]) as tf.Tensor4D; // [B, H, T, Dh]
};

/** `<prefix>.{q,k,v,out}_proj` attention → [B, Tq, D]. */
export function multiHeadAttention(
  p: ParamStore,
  prefix: string,
  x: AttentionInputs,
  nHeads: number,
  attnDropout: number,
  mode: RunMode,
): tf.Tensor3D {
  const [b, tq, d] = x.query.shape;
  const scaling = (d / nHeads) ** -0.5;
  const q = splitHeads(tf.mul(linear(p, `${prefix}.q_proj`, x.query), scaling), nHeads); // [B, H, Tq, Dh]
  const k = splitHeads(linear(p, `${prefix}.k_proj`, x.key), nHeads); // [B, H, Tk, Dh]
  const v = splitHeads(linear(p, `${prefix}.v_proj`, x.value), nHeads); // [B, H, Tk, Dh]
  let scores: tf.Tensor = tf.matMul(q, k, false, true); // [B, H, Tq, Tk]
  // Padded keys: add 0 or MASKED_SCORE from a [B, 1, 1, Tk] bias, as transformers' DetrAttention adds its
  // inverted attention mask (finfo.min), rather than tf.where on the broadcast mask: where materialises the
  // mask at [B, H, Tq, Tk] through Tile, which tfjs' webgpu backend runs in JavaScript for CPU-resident inputs
  // (8 s of a 9 s DETR-R50 forward at 800×1066 on an H200). Same values: real keys get s + 0 = s, padded ones
  // -FLT_MAX (|s| ≪ its ulp), and the softmax gives them exactly 0 weight, hence 0 gradient, as before.
  if (x.keyValid) scores = tf.add(scores, tf.where(x.keyValid, tf.scalar(0), tf.scalar(MASKED_SCORE))); // [B, H, Tq, Tk]
  const weights = dropout(tf.softmax(scores, -1), attnDropout, mode); // [B, H, Tq, Tk]
  const heads = tf.matMul(weights, v); // [B, H, Tq, Dh]
  const merged = tf.reshape(tf.transpose(heads, [0, 2, 1, 3]), [b, tq, d]); // [B, Tq, D]
  return linear(p, `${prefix}.out_proj`, merged) as tf.Tensor3D; // [B, Tq, D]
}

/** Key-validity tensor for attention from a flattened token mask [B, T] (1 = real) → [B, 1, 1, T] bool. */
export function keyValidFromMask(tokenMask: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, t] = tokenMask.shape;
    return tf.reshape(tf.greater(tokenMask, 0.5), [b, 1, 1, t]) as tf.Tensor4D; // [B, 1, 1, T]
  });
}
