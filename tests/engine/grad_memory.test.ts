/**
 * Memory of a training step on wasm: tf.clone shares memory (extra_kernels.ts `identityShareKernel`), and
 * variableGradsAsync frees each node's saved tensors and output gradients once the backward pass has passed
 * it (async_grads.ts `releaseDuringBackward`). Both must leave every gradient exactly as tfjs computes it.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine, variableGradsAsync } from '../../lib/engine/index.js';
import { Rng } from '../../lib/engine/rng.js';
import { copyToBufferWasm, sumRegionsWasm } from '../../lib/engine/wasm_kernels/sum_regions.js';

before(async () => {
  await initEngine({ backend: 'wasm', log: null });
});

/**
 * Peak bytes of tensor memory allocated on the wasm heap while `f` runs (BackendWasm allocates every
 * tensor with `wasm._malloc` and frees it with `wasm._free`; tf.memory() counts a shared buffer once per tensor).
 */
async function heapPeak(f: () => Promise<void> | void): Promise<number> {
  const wasm = (tf.backend() as unknown as { wasm: { _malloc(n: number): number; _free(p: number): void } }).wasm;
  const [malloc, free] = [wasm._malloc, wasm._free];
  const sizes = new Map<number, number>();
  let live = 0,
    peak = 0;
  wasm._malloc = (n: number) => {
    const p = malloc(n) >>> 0;
    sizes.set(p, n);
    live += n;
    peak = Math.max(peak, live);
    return p;
  };
  wasm._free = (p: number) => {
    live -= sizes.get(p >>> 0) ?? 0;
    sizes.delete(p >>> 0);
    free(p);
  };
  try {
    await f();
  } finally {
    wasm._malloc = malloc;
    wasm._free = free;
  }
  return peak;
}

test('tf.clone on wasm shares the memory (reference counted) and outlives the original', async () => {
  const x = tf.tensor1d([1, 2, 3, 4]);
  let y: tf.Tensor = x;
  assert.equal(await heapPeak(() => void (y = tf.clone(x))), 0, 'nothing allocated');
  assert.equal(y.dataId, x.dataId);
  x.dispose();
  assert.deepEqual([...y.dataSync()], [1, 2, 3, 4]);
  y.dispose();
});

/** A deep residual MLP with a softmax head: many saved activations, identity-like and broadcast gradients. */
function net(ws: tf.Variable[], bs: tf.Variable[], x: tf.Tensor2D): tf.Scalar {
  let h: tf.Tensor2D = x;
  ws.forEach((w, i) => {
    const z = tf.relu(tf.add(tf.matMul(h, w), bs[i])) as tf.Tensor2D; // bias broadcast over rows
    h = tf.add(h, tf.clone(z)); // residual; the clone's gradient is a Cast of dy
  });
  return tf.neg(tf.mean(tf.logSoftmax(h))) as tf.Scalar;
}

test('variableGradsAsync frees saved tensors and gradients during the backward pass: gradients equal tf.variableGrads bit for bit, at a lower peak', async () => {
  const rng = new Rng(11);
  const D = 96,
    L = 12;
  const ws = Array.from({ length: L }, () =>
    tf.variable(
      tf.tensor2d(
        rng.normals(D * D).map((a) => 0.1 * a),
        [D, D],
      ),
    ),
  );
  const bs = Array.from({ length: L }, () => tf.variable(tf.tensor1d(rng.normals(D).map((a) => 0.1 * a))));
  const x = tf.tensor2d(rng.normals(256 * D), [256, D]);
  const vars = [...ws, ...bs];
  let theirs: tf.NamedTensorMap = {},
    ours: tf.NamedTensorMap = {};
  const peakTheirs = await heapPeak(() => {
    const r = tf.variableGrads(() => net(ws, bs, x), vars);
    theirs = r.grads;
    r.value.dispose();
  });
  const peakOurs = await heapPeak(async () => {
    const r = await variableGradsAsync(async () => net(ws, bs, x), vars);
    ours = r.grads;
    r.value.dispose();
  });
  const liveAfter = tf.memory().numTensors;
  for (const v of vars) {
    const a = theirs[v.name].dataSync(),
      b = ours[v.name].dataSync();
    assert.deepEqual(new Uint32Array(b.buffer.slice(0)), new Uint32Array(a.buffer.slice(0)), v.name);
  }
  assert.ok(peakOurs < 0.7 * peakTheirs, `peak ${peakOurs} B vs tfjs' ${peakTheirs} B`);
  tf.dispose([...Object.values(theirs), ...Object.values(ours)]);
  assert.equal(tf.memory().numTensors, liveAfter - 2 * vars.length, 'nothing else left behind');
  tf.dispose([...vars, x]);
});

test('sumRegionsWasm: regions of a shared buffer summed in order, equal bit for bit to the float32 JavaScript loop', () => {
  const size = 1003, // not a multiple of 4: the SIMD loop's tail
    W = 3;
  const all = new Float32Array(new SharedArrayBuffer(W * size * 4 + 64));
  const rng = new Rng(9);
  all.set(rng.normals(all.length).map((v, i) => v * 10 ** ((i % 7) - 3)));
  const starts = [16, 16 + size, 16 + 2 * size];
  const want = all.slice(starts[0], starts[0] + size);
  for (const s of starts.slice(1)) for (let j = 0; j < size; j++) want[j] += all[s + j];
  const t = sumRegionsWasm(all, starts, size, [17, 59])!;
  assert.deepEqual(t.shape, [17, 59]);
  assert.deepEqual(new Uint32Array((t.dataSync() as Float32Array).slice().buffer), new Uint32Array(want.buffer));
  t.dispose();
});

test('copyToBufferWasm: a tensor copied straight from the heap into a shared buffer, the values of t.data()', async () => {
  const t = tf.tensor2d(new Rng(4).normals(6 * 7), [6, 7]);
  const dst = new Float32Array(new SharedArrayBuffer(4 * 60));
  assert.equal(copyToBufferWasm(t, dst, 5), true);
  assert.deepEqual([...dst.subarray(5, 47)], [...((await t.data()) as Float32Array)]);
  assert.ok(dst.subarray(0, 5).every((v) => v === 0) && dst.subarray(47).every((v) => v === 0), 'nothing else written');
  const ints = tf.tensor1d([1, 2], 'int32');
  assert.equal(copyToBufferWasm(ints, dst, 0), false, 'float32 only');
  tf.dispose([t, ints]);
});
