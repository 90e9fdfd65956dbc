/**
 * Conv geometries the wasm and native conv kernels are tested on: 1×1/3×3/5×3/7×7, strides 1–3, 'same' (TF's
 * asymmetric), 'valid', explicit symmetric and asymmetric pads, ceil rounding, batches.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../lib/engine/rng.js';
import { randomInput, type Input } from './backend_compare.js';

export type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
export interface ConvCase {
  name: string;
  x: number[];
  kh: number;
  kw: number;
  co: number;
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'ceil';
}
const e = (t: number, b: number, l: number, r: number): Pad => [
  [0, 0],
  [t, b],
  [l, r],
  [0, 0],
];
export const CONV_CASES: ConvCase[] = [
  { name: '1x1 s1 valid, batch 2', x: [2, 5, 5, 3], kh: 1, kw: 1, co: 4, strides: 1, pad: 'valid' },
  { name: '1x1 s2 same, odd', x: [1, 7, 9, 6], kh: 1, kw: 1, co: 5, strides: 2, pad: 'same' },
  { name: '3x3 s1 same', x: [1, 8, 8, 5], kh: 3, kw: 3, co: 6, strides: 1, pad: 'same' },
  { name: '3x3 s1 valid, non-square', x: [2, 6, 9, 4], kh: 3, kw: 3, co: 3, strides: 1, pad: 'valid' },
  { name: '3x3 s2 explicit 1, odd', x: [2, 9, 7, 4], kh: 3, kw: 3, co: 5, strides: 2, pad: e(1, 1, 1, 1) },
  { name: '3x3 s2 explicit 1, even', x: [1, 8, 10, 3], kh: 3, kw: 3, co: 4, strides: 2, pad: e(1, 1, 1, 1) },
  { name: '3x3 s2 same (TF asymmetric)', x: [1, 10, 9, 3], kh: 3, kw: 3, co: 4, strides: 2, pad: 'same' },
  { name: '7x7 s2 explicit 3 (ResNet stem)', x: [2, 15, 12, 3], kh: 7, kw: 7, co: 8, strides: 2, pad: e(3, 3, 3, 3) },
  {
    name: '5x3 strides [2,1] numeric pad, ceil',
    x: [1, 9, 8, 2],
    kh: 5,
    kw: 3,
    co: 3,
    strides: [2, 1],
    pad: 1,
    dimRoundingMode: 'ceil',
  },
  { name: '3x3 s2 asymmetric explicit', x: [1, 7, 7, 3], kh: 3, kw: 3, co: 2, strides: 2, pad: e(0, 2, 2, 1) },
  { name: '1x1 s2 padded (phase offsets > 0)', x: [1, 5, 6, 3], kh: 1, kw: 1, co: 2, strides: 2, pad: e(1, 1, 1, 1) },
  { name: '2x2 s3 valid (stride > kernel)', x: [1, 8, 7, 2], kh: 2, kw: 2, co: 3, strides: 3, pad: 'valid' },
  { name: '3x3 s1 same, wide channels', x: [1, 3, 4, 64], kh: 3, kw: 3, co: 96, strides: 1, pad: 'same' },
];

export function convAttrs(c: ConvCase): { dyShape: number[]; attrs: Record<string, unknown> } {
  const info = tf.backend_util.computeConv2DInfo(
    c.x as [number, number, number, number],
    [c.kh, c.kw, c.x[3], c.co],
    c.strides,
    1,
    c.pad as 'same',
    c.dimRoundingMode,
  );
  return {
    dyShape: info.outShape,
    attrs: { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: c.dimRoundingMode },
  };
}

/** A kernel call on random inputs of one case, for backend comparisons (runOn / compareBackends). */
export interface KernelCall {
  inputs: Record<string, Input>;
  f: (t: Record<string, tf.Tensor>) => tf.Tensor;
}

/** Conv2DBackpropFilter (dW) on case `c`: x and dy random. */
export function filterGradCall(c: ConvCase, rng: Rng): KernelCall {
  const { dyShape, attrs } = convAttrs(c);
  return {
    inputs: { x: randomInput(rng, c.x), dy: randomInput(rng, dyShape) },
    f: (t) =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x: t.x, dy: t.dy },
          { ...attrs, filterShape: [c.kh, c.kw, c.x[3], c.co] },
        ) as tf.Tensor,
  };
}

/** Conv2DBackpropInput (dx) on case `c`: dy and the filter random. */
export function inputGradCall(c: ConvCase, rng: Rng): KernelCall {
  const { dyShape, attrs } = convAttrs(c);
  return {
    inputs: { dy: randomInput(rng, dyShape), w: randomInput(rng, [c.kh, c.kw, c.x[3], c.co]) },
    f: (t) =>
      tf
        .engine()
        .runKernel('Conv2DBackpropInput', { dy: t.dy, filter: t.w }, { ...attrs, inputShape: c.x }) as tf.Tensor,
  };
}

/** Reference product with explicit broadcasting (tfjs' cpu BatchMatMul mis-broadcasts [2,1,…]×[3,…]). */
export function referenceMatMul(a: tf.Tensor, b: tf.Tensor, tA: boolean, tB: boolean): tf.Tensor {
  const batch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const n = batch.reduce((x, y) => x * y, 1);
  const a3 = tf.reshape(tf.broadcastTo(a, [...batch, ...a.shape.slice(-2)]), [n, ...a.shape.slice(-2)]);
  const b3 = tf.reshape(tf.broadcastTo(b, [...batch, ...b.shape.slice(-2)]), [n, ...b.shape.slice(-2)]);
  const c = tf.matMul(a3, b3, tA, tB);
  return tf.reshape(c, [...batch, ...c.shape.slice(-2)]);
}
