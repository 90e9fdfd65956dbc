/**
 * The one-pass AdamW update on wasm (lib/engine/wasm_kernels/adamw.ts) against the per-op form
 * (AdamW with `fused: false`), which tests/train/optimizer.test.ts checks against torch.optim.AdamW.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, clipGradNorm, gradNormScale } from '../../lib/train/optimizer.js';
import { initEngine } from '../../lib/engine/index.js';
import { Rng } from '../../lib/engine/rng.js';
import { heapF32, type WasmBackend } from '../../lib/engine/wasm_kernels/heap.js';
import { setSimdEnabled, simdFor } from '../../lib/engine/wasm_kernels/simd.js';

before(async () => {
  await initEngine({ backend: 'wasm', log: null });
});

const SHAPES: number[][] = [[1], [7], [3, 3, 4, 5], [130, 17], [64]];

function setup(fused: boolean, wd: [number, number]) {
  const rng = new Rng(7);
  const vars = SHAPES.map((s) => tf.variable(tf.tensor(rng.normals(s.reduce((a, b) => a * b, 1)), s)));
  const groups = [
    { name: 'a', lr: 3e-3, weightDecay: wd[0], params: new Map(vars.slice(0, 3).map((v, i) => [`p${i}`, v])) },
    { name: 'b', lr: 1e-2, weightDecay: wd[1], params: new Map(vars.slice(3).map((v, i) => [`p${i + 3}`, v])) },
  ];
  return { vars, opt: new AdamW(groups, { fused }) };
}

/** Gradients of step `k`: spread over many magnitudes (some tiny, some huge), a few exact zeros. */
function gradsAt(k: number): Map<string, tf.Tensor> {
  const rng = new Rng(100 + k);
  return new Map(
    SHAPES.map((s, i) => {
      const n = s.reduce((a, b) => a * b, 1);
      const x = rng.normals(n).map((g, j) => (j % 11 === 0 ? 0 : g * 10 ** rng.int(-6, 3)));
      return [`p${i}`, tf.tensor(x, s)];
    }),
  );
}

const bits = (t: tf.Tensor) => new Uint32Array((t.dataSync() as Float32Array).slice().buffer);

test('fused AdamW on wasm equals the per-op form bit for bit: weights and both moments, with and without weight decay and clipping, in SIMD and in JavaScript', async () => {
  assert.ok(simdFor(heapF32(tf.backend() as unknown as WasmBackend)), 'WebAssembly SIMD loops are available');
  for (const [wd, simd] of [
    [[1e-4, 0], true],
    [[0.05, 1e-4], true],
    [[0.05, 1e-4], false],
  ] as Array<[[number, number], boolean]>) {
    setSimdEnabled(simd);
    const a = setup(true, wd),
      b = setup(false, wd);
    for (let k = 0; k < 6; k++) {
      const g = gradsAt(k);
      const maxNorm = k % 2 === 0 ? 0.1 : 0; // clipped on even steps, not clipped on odd ones
      const { coef } = await gradNormScale(g, maxNorm);
      if (k % 2 === 0) assert.ok(coef < 1, 'this step is clipped');
      a.opt.apply(g, coef);
      const clipped = await clipGradNorm(g, maxNorm); // the per-op path as replicas used it before
      b.opt.apply(clipped.grads);
      tf.dispose([...g.values(), ...clipped.grads.values()]);
      a.vars.forEach((v, i) => assert.deepEqual(bits(v), bits(b.vars[i]), `wd ${wd} simd ${simd} step ${k + 1} p${i}`));
    }
    const [sa, sb] = [await a.opt.state(), await b.opt.state()];
    for (const k of sa.m.keys()) {
      assert.deepEqual(new Uint32Array(sa.m.get(k)!.buffer), new Uint32Array(sb.m.get(k)!.buffer), `m ${k}`);
      assert.deepEqual(new Uint32Array(sa.v.get(k)!.buffer), new Uint32Array(sb.v.get(k)!.buffer), `v ${k}`);
    }
    for (const x of [a, b]) {
      x.opt.dispose();
      tf.dispose(x.vars);
    }
  }
  setSimdEnabled(true);
});

test('fused AdamW writes the moments in place and gives each weight new memory, so a convolution sees the new filter', () => {
  const { vars, opt } = setup(true, [1e-4, 0]);
  const filter = vars[2]; // [3, 3, 4, 5]
  const x = tf.tensor4d(new Rng(3).normals(2 * 6 * 6 * 4), [2, 6, 6, 4]);
  tf.conv2d(x, filter as tf.Tensor4D, 1, 'same').dispose(); // tfjs may cache the packed filter by tensor id
  const before = filter.dataId;
  opt.apply(gradsAt(0));
  const mIds = new Map([...(opt as unknown as { m: Map<string, tf.Variable> }).m].map(([k, m]) => [k, m.dataId]));
  opt.apply(gradsAt(1));
  for (const [k, m] of (opt as unknown as { m: Map<string, tf.Variable> }).m)
    assert.equal(m.dataId, mIds.get(k), `first moment of ${k} updated in place`);
  assert.notEqual(filter.dataId, before, 'the weight has new memory');
  const got = tf.conv2d(x, filter as tf.Tensor4D, 1, 'same').dataSync();
  const fresh = tf.tensor4d(filter.dataSync().slice(), filter.shape as [number, number, number, number]);
  const want = tf.conv2d(x, fresh, 1, 'same').dataSync();
  assert.deepEqual(got, want);
  // The premise: had the weight been written in place, this convolution would not see it (XNNPACK's
  // operator, with the filter packed, is cached by the filter's tensor id).
  const be = tf.backend() as unknown as {
    dataIdMap: { get(d: object): { memoryOffset: number } };
    wasm: { HEAPF32: Float32Array };
  };
  const at = be.dataIdMap.get(fresh.dataId).memoryOffset >>> 2;
  for (let i = 0; i < fresh.size; i++) be.wasm.HEAPF32[at + i] *= -2;
  const stale = tf.conv2d(x, fresh, 1, 'same').dataSync();
  const changed = tf.tensor4d(fresh.dataSync().slice(), fresh.shape);
  assert.notDeepEqual(stale, tf.conv2d(x, changed, 1, 'same').dataSync());
  opt.dispose();
  tf.dispose([...vars, x, fresh, changed]);
});
