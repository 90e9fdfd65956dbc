/**
 * Test helpers: run the same computation on the cpu and wasm backends from the same input values and
 * compare with a tolerance relative to the result's magnitude (float32 accumulations differ in order).
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import { Rng } from '../../lib/engine/rng.js';

export type BackendId = 'cpu' | 'wasm';
export interface Input {
  shape: number[];
  data: Float32Array | Int32Array;
  dtype?: 'float32' | 'int32';
}
export interface Result {
  shape: number[];
  values: Float32Array;
}

export const randomInput = (rng: Rng, shape: number[]): Input => ({
  shape,
  data: rng.normals(shape.reduce((a, b) => a * b, 1)),
});

/** Runs `f` on tensors made from `inputs` on `backend`; returns the values of each output. */
export async function runOn(
  backend: BackendId,
  inputs: Record<string, Input>,
  f: (t: Record<string, tf.Tensor>) => tf.Tensor | tf.Tensor[],
): Promise<Result[]> {
  await initEngine({ backend, log: null });
  const ts: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.data, v.shape, v.dtype ?? 'float32');
  const out = tf.tidy(() => f(ts));
  const outs = Array.isArray(out) ? out : [out];
  const res = outs.map((o) => ({ shape: o.shape, values: Float32Array.from(o.dataSync()) }));
  tf.dispose([...outs, ...Object.values(ts)]);
  return res;
}

/** Max |got − want| ≤ rtol · max|want| + atol, shapes equal. */
export function assertClose(got: Result, want: Result, what: string, rtol = 2e-5, atol = 1e-6): void {
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  let maxDiff = 0,
    scale = 0,
    at = -1;
  for (let i = 0; i < want.values.length; i++) {
    const d = Math.abs(got.values[i] - want.values[i]);
    if (!(d <= maxDiff)) {
      maxDiff = d;
      at = i;
    }
    scale = Math.max(scale, Math.abs(want.values[i]));
  }
  assert.ok(
    maxDiff <= rtol * scale + atol,
    `${what}: max |diff| ${maxDiff} at ${at} (got ${got.values[at]}, want ${want.values[at]}) > ${rtol} × ${scale}`,
  );
}

/** Runs on both backends and compares every output (cpu is the reference). */
export async function compareBackends(
  inputs: Record<string, Input>,
  f: (t: Record<string, tf.Tensor>) => tf.Tensor | tf.Tensor[],
  what: string,
  rtol?: number,
): Promise<void> {
  const want = await runOn('cpu', inputs, f);
  const got = await runOn('wasm', inputs, f);
  want.forEach((w, i) => assertClose(got[i], w, `${what} [output ${i}]`, rtol));
}
