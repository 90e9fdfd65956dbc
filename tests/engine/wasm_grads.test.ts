/**
 * Gradients on the wasm backend (with detrlab's kernels) against the cpu backend: a tiny conv net
 * whole, and the ops a ResNet + DETR training step differentiates through.
 */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../lib/engine/rng.js';
import { compareBackends, randomInput } from './backend_compare.js';

// these tests are about detrlab's own wasm kernels: keep the native ones (on by default) out of the way
process.env.DETRLAB_NATIVE_KERNELS = '0';

test('tiny conv net: tf.grads on wasm ≈ on cpu (every parameter and the input)', async () => {
  const rng = new Rng(11);
  const inputs = {
    x: randomInput(rng, [2, 13, 11, 3]),
    w1: randomInput(rng, [7, 7, 3, 8]),
    b1: randomInput(rng, [8]),
    w2: randomInput(rng, [3, 3, 8, 12]),
    w3: randomInput(rng, [1, 1, 12, 16]),
    w4: randomInput(rng, [1, 1, 8, 16]),
    fc: randomInput(rng, [16, 5]),
  };
  const net = (
    x: tf.Tensor,
    w1: tf.Tensor,
    b1: tf.Tensor,
    w2: tf.Tensor,
    w3: tf.Tensor,
    w4: tf.Tensor,
    fc: tf.Tensor,
  ): tf.Scalar => {
    const s = tf.fused.conv2d({
      x: x as tf.Tensor4D,
      filter: w1 as tf.Tensor4D,
      strides: 2,
      pad: [
        [0, 0],
        [3, 3],
        [3, 3],
        [0, 0],
      ],
      bias: b1,
      activation: 'relu',
    }); // [2, 7, 6, 8]
    const p = tf.maxPool(s, 3, 2, 1); // [2, 4, 3, 8]
    const h = tf.relu(
      tf.conv2d(p, w2 as tf.Tensor4D, 1, [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]),
    ); // [2, 4, 3, 12]
    const y = tf.relu(tf.add(tf.conv2d(h, w3 as tf.Tensor4D, 1, 'valid'), tf.conv2d(p, w4 as tf.Tensor4D, 1, 'valid'))); // [2, 4, 3, 16]
    const logits = tf.matMul(tf.mean(y, [1, 2]), fc); // [2, 5]
    return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([1, 3], 'int32'), 5), logits) as tf.Scalar;
  };
  await compareBackends(
    inputs,
    (t) => tf.grads(net)([t.x, t.w1, t.b1, t.w2, t.w3, t.w4, t.fc]),
    'tiny conv net grads',
    1e-4,
  );
});

/** Each op is differentiated through Σ f(x)·r for a fixed random r. */
const OPS: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  softmax: (x) => tf.softmax(x),
  logSoftmax: (x) => tf.logSoftmax(x),
  sigmoid: (x) => tf.sigmoid(x),
  log: (x) => tf.log(tf.add(tf.abs(x), 0.5)),
  layerNorm: (x) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5)));
  },
  gather: (x) => tf.gather(x, tf.tensor1d([0, 3, 1, 3], 'int32'), 1),
  sliceConcat: (x) => tf.concat([tf.slice(x, [0, 1, 0], [2, 3, 6]), x], 1),
  transposeMatMul: (x) => tf.matMul(tf.transpose(x, [0, 2, 1]), x),
  attention: (x) => tf.matMul(tf.softmax(tf.div(tf.matMul(x, x, false, true), Math.sqrt(6))), x),
  linear3d: (x) => tf.matMul(x, tf.reshape(tf.range(0, 36), [6, 6])),
  maxPool: (x) => tf.maxPool(tf.reshape(x, [2, 5, 6, 1]) as tf.Tensor4D, 3, 2, 1),
  avgPool: (x) => tf.avgPool(tf.reshape(x, [2, 5, 6, 1]) as tf.Tensor4D, 2, 1, 'same'),
  reluAdd: (x) => tf.relu(tf.add(x, tf.reverse(x, 1))),
  clipMinMax: (x) => tf.add(tf.clipByValue(x, -0.5, 0.5), tf.mul(tf.min(x, -1, true), tf.max(x, 1, true))),
};

test('op gradients on wasm ≈ on cpu', async () => {
  const rng = new Rng(12);
  const inputs = { x: randomInput(rng, [2, 5, 6]), r: randomInput(rng, [256]) };
  for (const [name, f] of Object.entries(OPS)) {
    await compareBackends(
      inputs,
      (t) =>
        tf.grad((x: tf.Tensor) => {
          const y = f(x);
          return tf.sum(tf.mul(y, tf.reshape(tf.slice(tf.reshape(t.r, [-1]), 0, y.size), y.shape)));
        })(t.x),
      `grad of ${name}`,
      1e-4,
    );
  }
});
