/**
 * detrlab's wasm kernels against tfjs' cpu backend: Conv2DBackpropFilter, Conv2DBackpropInput (both
 * plans, and with tiny tiling limits so the tiled paths run on small shapes), BatchMatMul (every
 * transpose combination, batches, broadcasting), UnsortedSegmentSum; no leaked tensors or views.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../lib/engine/rng.js';
import { initEngine } from '../../lib/engine/index.js';
import {
  gemmLimits,
  setGemmLimits,
  setInputGradPlan,
  setForwardPlan,
  registerWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
} from '../../lib/engine/wasm_kernels/index.js';
import { compareBackends, randomInput, runOn, assertClose, type Input } from './backend_compare.js';
import { CONV_CASES, filterGradCall, inputGradCall, referenceMatMul } from './conv_cases.js';
import { setSimdEnabled } from '../../lib/engine/wasm_kernels/simd.js';

// these tests are about detrlab's own wasm kernels: keep the native ones (on by default) out of the way
process.env.DETRLAB_NATIVE_KERNELS = '0';

const withLimits = async (l: Parameters<typeof setGemmLimits>[0] | null, fn: () => Promise<void>): Promise<void> => {
  const saved = gemmLimits();
  if (l) setGemmLimits(l);
  try {
    await fn();
  } finally {
    setGemmLimits(saved);
  }
};
const TINY = { weightsMax: 24, kMax: 5 }; // forces K-chunks and N-blocks on tiny shapes

after(() => {
  setInputGradPlan(null);
  setForwardPlan(null);
});

test('Conv2D and FusedConv2D (bias, relu/relu6/linear) match cpu under every forward plan', async () => {
  const rng = new Rng(4);
  const acts = ['linear', 'relu', 'relu6'] as const;
  for (const [n, c] of CONV_CASES.entries()) {
    if (c.dimRoundingMode) continue; // tf.fused.conv2d takes no rounding mode with explicit pads
    const w = [c.kh, c.kw, c.x[3], c.co];
    const inputs = { x: randomInput(rng, c.x), w: randomInput(rng, w), b: randomInput(rng, [c.co]) };
    const act = acts[n % 3];
    const f = (t: Record<string, tf.Tensor>) => [
      tf.conv2d(t.x as tf.Tensor4D, t.w as tf.Tensor4D, c.strides, c.pad as 'same'),
      tf.fused.conv2d({
        x: t.x as tf.Tensor4D,
        filter: t.w as tf.Tensor4D,
        strides: c.strides,
        pad: c.pad as 'same',
        bias: t.b,
        activation: act,
      }),
    ];
    const want = await runOn('cpu', inputs, f);
    for (const plan of [null, 'conv', 'gemm', 'gemmT'] as const) {
      setForwardPlan(plan);
      const got = await runOn('wasm', inputs, f);
      got.forEach((g, i) =>
        assertClose(g, want[i], `${i ? `fused(${act})` : 'conv2d'} ${c.name} plan ${plan ?? 'auto'}`),
      );
    }
  }
  setForwardPlan(null);
});

test('Conv2DBackpropFilter matches cpu (strides, paddings, 1×1/3×3/7×7, batches; tiled and not)', async () => {
  const rng = new Rng(1);
  for (const c of CONV_CASES) {
    const { inputs, f } = filterGradCall(c, rng);
    await compareBackends(inputs, f, `dW ${c.name}`);
    await withLimits(TINY, () => compareBackends(inputs, f, `dW ${c.name} (tiled)`));
  }
});

test('Conv2DBackpropInput matches cpu under both plans (and tiled)', async () => {
  const rng = new Rng(2);
  for (const c of CONV_CASES) {
    const { inputs, f } = inputGradCall(c, rng);
    const want = (await runOn('cpu', inputs, f))[0];
    for (const plan of [null, 'phases', 'gemm'] as const) {
      setInputGradPlan(plan);
      assertClose((await runOn('wasm', inputs, f))[0], want, `dx ${c.name} plan ${plan ?? 'auto'}`);
    }
    setInputGradPlan('gemm');
    await withLimits(TINY, async () =>
      assertClose((await runOn('wasm', inputs, f))[0], want, `dx ${c.name} gemm tiled`),
    );
    setInputGradPlan(null);
  }
});

const MATMUL_SHAPES: Array<{ a: number[]; b: number[]; M: number; K: number; N: number }> = [
  { a: [], b: [], M: 3, K: 4, N: 5 }, // naive JS path
  { a: [], b: [], M: 33, K: 40, N: 50 }, // XNNPACK path
  { a: [3], b: [3], M: 17, K: 24, N: 30 }, // batched
  { a: [2, 3], b: [], M: 17, K: 24, N: 30 }, // right operand broadcast (folds when not transposing a)
  { a: [], b: [4], M: 17, K: 24, N: 30 }, // left operand broadcast
  { a: [2, 1], b: [3], M: 17, K: 24, N: 30 }, // both broadcast
];

test('BatchMatMul: every transpose combination, batches and broadcasting (tiled and not)', async () => {
  const rng = new Rng(3);
  for (const s of MATMUL_SHAPES) {
    for (const [tA, tB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const inputs: Record<string, Input> = {
        a: randomInput(rng, [...s.a, ...(tA ? [s.K, s.M] : [s.M, s.K])]),
        b: randomInput(rng, [...s.b, ...(tB ? [s.N, s.K] : [s.K, s.N])]),
      };
      const what = `matMul a[${inputs.a.shape}] b[${inputs.b.shape}] tA=${tA} tB=${tB}`;
      const want = (await runOn('cpu', inputs, (t) => referenceMatMul(t.a, t.b, tA, tB)))[0];
      const f = (t: Record<string, tf.Tensor>) => tf.matMul(t.a, t.b, tA, tB);
      assertClose((await runOn('wasm', inputs, f))[0], want, what);
      await withLimits(TINY, async () => assertClose((await runOn('wasm', inputs, f))[0], want, `${what} (tiled)`));
    }
  }
});

test('MaxPoolGrad matches cpu, ties included (first maximum in the window wins), in SIMD (channels a multiple of 4) and JavaScript', async () => {
  const rng = new Rng(5);
  const cases: Array<{ x: number[]; k: number; s: number; pad: 'same' | 'valid' | number }> = [
    { x: [2, 9, 7, 5], k: 3, s: 2, pad: 1 },
    { x: [1, 8, 8, 4], k: 3, s: 2, pad: 1 },
    { x: [2, 9, 10, 12], k: 3, s: 2, pad: 1 },
    { x: [1, 6, 7, 8], k: 2, s: 1, pad: 'same' },
    { x: [1, 7, 6, 3], k: 2, s: 2, pad: 'valid' },
    { x: [1, 6, 9, 6], k: 3, s: 1, pad: 'same' },
    { x: [1, 5, 5, 2], k: 3, s: 2, pad: 'same' },
  ];
  for (const c of cases) {
    const n = c.x.reduce((a, b) => a * b, 1);
    const ties = Float32Array.from(rng.normals(n), (v) => Math.max(0, Math.round(v))); // relu-like: many equal values
    for (const [data, simd] of [
      [rng.normals(n), true],
      [ties, true],
      [ties, false],
    ] as const) {
      setSimdEnabled(simd);
      const inputs = { x: { shape: c.x, data }, r: randomInput(rng, [n]) };
      await compareBackends(
        inputs,
        (t) =>
          tf.grad((x: tf.Tensor) => {
            const y = tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad);
            return tf.sum(tf.mul(y, tf.reshape(tf.slice(t.r, 0, y.size), y.shape)));
          })(t.x),
        `maxPool grad x[${c.x}] k${c.k} s${c.s} pad ${c.pad} simd ${simd}`,
      );
    }
  }
  setSimdEnabled(true);
});

test('Sum over leading axes (and other axes, via tfjs) matches cpu', async () => {
  const rng = new Rng(6);
  const x = randomInput(rng, [3, 300, 7]);
  for (const [axis, keepDims] of [
    [0, false],
    [[0, 1], false],
    [[1, 0], true],
    [-3, false],
    [1, false],
    [[0, 2], true],
    [[0, 1, 2], false],
  ] as const) {
    await compareBackends(
      { x },
      (t) => tf.sum(t.x, axis as number | number[], keepDims),
      `sum axis ${JSON.stringify(axis)} keepDims ${keepDims}`,
      1e-5,
    );
  }
  await compareBackends({ x: randomInput(rng, [1, 5, 6, 64]) }, (t) => tf.sum(t.x, [0, 1, 2]), 'bias-gradient sum');
});

test('Tile and broadcastTo match cpu (float32, int32, bool)', async () => {
  const rng = new Rng(7);
  const cases: Array<[number[], number[]]> = [
    [
      [2, 1, 1, 5],
      [1, 3, 4, 1],
    ],
    [
      [1, 1, 1, 1],
      [2, 3, 2, 7],
    ],
    [
      [3, 2],
      [2, 5],
    ],
    [[4], [3]],
    [
      [2, 3, 1],
      [1, 1, 1],
    ],
  ];
  for (const [shape, reps] of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = randomInput(rng, shape),
      xi: Input = { shape, data: Int32Array.from({ length: n }, (_, i) => i * 7 - 3), dtype: 'int32' };
    await compareBackends(
      { x, xi },
      (t) => [
        tf.tile(t.x, reps),
        tf.cast(tf.tile(t.xi, reps), 'float32'),
        tf.cast(tf.tile(tf.greater(t.x, 0), reps), 'float32'),
      ],
      `tile [${shape}] × [${reps}]`,
      0,
    );
  }
  await compareBackends(
    { x: randomInput(rng, [2, 1, 1, 6]) },
    (t) => tf.broadcastTo(t.x, [2, 5, 4, 6]),
    'broadcastTo',
    0,
  );
});

test('UnsortedSegmentSum: hand-computed sums, out-of-range ids dropped', async () => {
  const data = Float32Array.from([1, 2, 10, 20, 100, 200, 1000, 2000, 5, 6]); // 5 rows × 2
  const ids = Int32Array.from([2, 0, 2, -1, 7]);
  const [r] = await runOn('wasm', { x: { shape: [5, 2], data }, ids: { shape: [5], data: ids, dtype: 'int32' } }, (t) =>
    tf.unsortedSegmentSum(t.x, t.ids as tf.Tensor1D, 3),
  );
  assert.deepEqual(r.shape, [3, 2]);
  assert.deepEqual([...r.values], [10, 20, 0, 0, 101, 202]);
});

test('kernels are registered once, for wasm only, and leak neither tensors nor heap views', async () => {
  await initEngine({ backend: 'wasm', log: null });
  registerWasmTrainingKernels();
  registerWasmTrainingKernels();
  for (const k of WASM_TRAINING_KERNELS) assert.ok(tf.getKernel(k, 'wasm'), `${k} registered for wasm`);
  assert.equal(
    tf.getKernel('Conv2DBackpropFilter', 'cpu')?.kernelFunc ===
      tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc,
    false,
  );
  const be = tf.backend() as unknown as { numDataIds(): number };
  const x = tf.randomNormal([1, 9, 9, 8]) as tf.Tensor4D,
    w = tf.randomNormal([3, 3, 8, 8]) as tf.Tensor4D;
  const before = { tensors: tf.memory().numTensors, ids: be.numDataIds() };
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(
      tf.matMul(
        tf.reshape(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), [25, 8]),
        tf.reshape(b, [72, 8]),
        false,
        true,
      ),
    ),
  )([x, w]);
  tf.dispose(g);
  assert.equal(tf.memory().numTensors, before.tensors);
  assert.equal(be.numDataIds(), before.ids);
  tf.dispose([x, w]);
});
