/**
 * A tiny end-to-end training run on the active backend: conv → relu → mean-pool → linear, trained with
 * Adam on a fixed random batch for a few steps. Proves that forward, backward (including the kernels
 * detrlab registers for wasm) and the optimizer work here, and how fast.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from './rng.js';

export interface SmokeResult {
  backend: string;
  steps: number;
  losses: number[];
  msPerStep: number;
  numTensorsLeaked: number;
}

export async function tinyTrainingRun(steps = 20, seed = 0): Promise<SmokeResult> {
  const rng = new Rng(seed);
  const before = tf.memory().numTensors;
  const x = tf.tensor4d(rng.normals(4 * 16 * 16 * 3), [4, 16, 16, 3]); // [B, H, W, 3]
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3)); // [B, 3]
  // tidy frees each initial value; the variable keeps its own reference to the data
  const w1 = tf.tidy(() => tf.variable(tf.tensor4d(rng.normals(3 * 3 * 3 * 8, 0.3), [3, 3, 3, 8]))); // [3, 3, 3, 8]
  const w2 = tf.tidy(() => tf.variable(tf.tensor2d(rng.normals(8 * 3, 0.3), [8, 3]))); // [8, 3]
  const opt = tf.train.adam(0.05);
  const losses: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const loss = opt.minimize(() => {
      const h = tf.relu(tf.conv2d(x, w1, 2, 'same')); // [B, 8, 8, 8]
      const pooled = tf.mean(h, [1, 2]); // [B, 8]
      return tf.losses.softmaxCrossEntropy(y, tf.matMul(pooled, w2)) as tf.Scalar;
    }, true)!;
    losses.push((await loss.data())[0]);
    loss.dispose();
  }
  const msPerStep = (performance.now() - t0) / steps;
  opt.dispose();
  tf.dispose([x, y, w1, w2]);
  return { backend: tf.getBackend(), steps, losses, msPerStep, numTensorsLeaked: tf.memory().numTensors - before };
}
