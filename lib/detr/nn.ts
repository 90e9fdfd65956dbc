/**
 * Small functional layers over a ParamStore (weights by HF name, tfjs layout). Each takes its
 * parameter prefix, so a layer reads `<prefix>.weight` / `<prefix>.bias`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ParamStore } from './param_store.js';
import { Rng } from '../engine/rng.js';

/** Whether dropout is active, and the generator that seeds each dropout mask. */
export interface RunMode {
  training: boolean;
  rng?: Rng;
}
export const EVAL: RunMode = { training: false };

/** `nn.Linear`: x [..., in] → [..., out]; weight is held as [in, out]. */
export function linear(p: ParamStore, prefix: string, x: tf.Tensor): tf.Tensor {
  const w = p.get(`${prefix}.weight`); // [in, out]
  const b = p.get(`${prefix}.bias`); // [out]
  const [dIn, dOut] = w.shape;
  const flat = tf.reshape(x, [-1, dIn]); // [N, in]
  const y = tf.add(tf.matMul(flat, w), b); // [N, out]
  return tf.reshape(y, [...x.shape.slice(0, -1), dOut]); // [..., out]
}

/** `nn.LayerNorm` over the last axis (eps 1e-5, biased variance, as PyTorch). */
export function layerNorm(p: ParamStore, prefix: string, x: tf.Tensor, eps = 1e-5): tf.Tensor {
  const mean = tf.mean(x, -1, true); // [..., 1]
  const centred = tf.sub(x, mean); // [..., D]
  const variance = tf.mean(tf.square(centred), -1, true); // [..., 1]
  const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, eps))); // [..., D]
  return tf.add(tf.mul(normed, p.get(`${prefix}.weight`)), p.get(`${prefix}.bias`)); // [..., D]
}

/** Inverted dropout in training (mask seeded from `mode.rng`); identity in eval or at rate 0. */
export function dropout(x: tf.Tensor, rate: number, mode: RunMode): tf.Tensor {
  if (!mode.training || rate === 0) return x;
  if (!mode.rng) throw new Error('dropout in training mode needs an Rng (RunMode.rng)');
  return tf.dropout(x, rate, undefined, mode.rng.nextU32()); // same shape as x
}
