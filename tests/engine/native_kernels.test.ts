/**
 * detrlab's native kernels (onnxruntime-node MLAS behind the wasm backend) against tfjs' cpu backend: Conv2D and
 * FusedConv2D, Conv2DBackpropFilter and Conv2DBackpropInput under every plan for every test geometry,
 * BatchMatMul (transposes, batches, broadcasting), the size thresholds; the gradients of a small conv net and a demo DETR training
 * step with and without them. Each check also asserts that the native path really ran. Skipped, with the
 * reason, where onnxruntime-node cannot load.
 */
import { test, before, after } from 'node:test';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../lib/engine/rng.js';
import { initEngine } from '../../lib/engine/index.js';
import {
  loadOrt,
  nativeRunCount,
  registerNativeKernels,
  setNativeConvPlan,
  setNativeKernels,
} from '../../lib/engine/native_kernels/index.js';
import { DetrModel } from '../../lib/detr/model.js';
import { resolveDetr } from '../../lib/detr/config.js';
import { InProcessTrainer } from '../../lib/train/trainer.js';
import type { TrainBatch } from '../../lib/train/batch.js';
import { assertClose, randomInput, runOn, type Input, type Result } from './backend_compare.js';
import { CONV_CASES, filterGradCall, inputGradCall, referenceMatMul } from './conv_cases.js';

const ort = loadOrt();
const skip = ort.ok ? false : `onnxruntime-node cannot load here: ${ort.detail}`;

before(async () => {
  if (skip) return;
  await initEngine({ backend: 'wasm', log: null });
  const r = registerNativeKernels();
  assert.ok(r.ok, r.detail);
});
after(() => {
  for (const k of ['forward', 'filter', 'input'] as const) setNativeConvPlan(k, null);
  setNativeKernels(false);
});

/** Runs on wasm with native kernels on and asserts that at least one native call happened. */
async function native(
  inputs: Record<string, Input>,
  f: (t: Record<string, tf.Tensor>) => tf.Tensor | tf.Tensor[],
  what: string,
): Promise<Result[]> {
  setNativeKernels(true);
  const n0 = nativeRunCount();
  const r = await runOn('wasm', inputs, f);
  assert.ok(nativeRunCount() > n0, `${what}: no native call ran`);
  return r;
}

test('Conv2D and FusedConv2D (bias; linear/relu/relu6) match cpu under both native plans', { skip }, async () => {
  const rng = new Rng(4);
  const acts = ['linear', 'relu', 'relu6'] as const;
  for (const [n, c] of CONV_CASES.entries()) {
    const w = [c.kh, c.kw, c.x[3], c.co];
    const inputs = { x: randomInput(rng, c.x), w: randomInput(rng, w), b: randomInput(rng, [c.co]) };
    const act = acts[n % 3];
    const f = (t: Record<string, tf.Tensor>) => {
      const x = t.x as tf.Tensor4D,
        filter = t.w as tf.Tensor4D;
      const plain = tf.conv2d(x, filter, c.strides, c.pad as 'same', 'NHWC', 1, c.dimRoundingMode);
      // tf.fused.conv2d takes no rounding mode with explicit pads
      if (c.dimRoundingMode) return [plain];
      return [
        plain,
        tf.fused.conv2d({ x, filter, strides: c.strides, pad: c.pad as 'same', bias: t.b, activation: act }),
      ];
    };
    const want = await runOn('cpu', inputs, f);
    for (const plan of ['conv', 'gemm'] as const) {
      setNativeConvPlan('forward', plan);
      const got = await native(inputs, f, `forward ${c.name} ${plan}`);
      got.forEach((g, i) => assertClose(g, want[i], `${i ? `fused(${act})` : 'conv2d'} ${c.name} native ${plan}`));
    }
  }
  setNativeConvPlan('forward', null);
});

test('Conv2DBackpropFilter matches cpu under both native plans', { skip }, async () => {
  const rng = new Rng(1);
  for (const c of CONV_CASES) {
    const { inputs, f } = filterGradCall(c, rng);
    const want = (await runOn('cpu', inputs, f))[0];
    for (const plan of ['conv', 'gemm'] as const) {
      setNativeConvPlan('filter', plan);
      assertClose((await native(inputs, f, `dW ${c.name}`))[0], want, `dW ${c.name} native ${plan}`);
    }
  }
  setNativeConvPlan('filter', null);
});

test('Conv2DBackpropInput matches cpu (ConvTranspose; dy·Wᵀ for 1×1)', { skip }, async () => {
  const rng = new Rng(2);
  for (const c of CONV_CASES) {
    const { inputs, f } = inputGradCall(c, rng);
    const want = (await runOn('cpu', inputs, f))[0];
    for (const plan of ['convT', 'gemm'] as const) {
      setNativeConvPlan('input', plan);
      assertClose((await native(inputs, f, `dx ${c.name}`))[0], want, `dx ${c.name} native ${plan}`);
    }
  }
  setNativeConvPlan('input', null);
});

test('BatchMatMul: every transpose combination, 2-D, batches and broadcasting', { skip }, async () => {
  const rng = new Rng(3);
  const shapes = [
    { a: [], b: [], M: 13, K: 20, N: 25 },
    { a: [], b: [], M: 33, K: 40, N: 50 },
    { a: [3], b: [3], M: 17, K: 24, N: 30 },
    { a: [2, 3], b: [], M: 17, K: 24, N: 30 },
    { a: [], b: [4], M: 17, K: 24, N: 30 },
    { a: [2, 1], b: [3], M: 17, K: 24, N: 30 },
  ];
  for (const s of shapes) {
    for (const [tA, tB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const inputs = {
        a: randomInput(rng, [...s.a, ...(tA ? [s.K, s.M] : [s.M, s.K])]),
        b: randomInput(rng, [...s.b, ...(tB ? [s.N, s.K] : [s.K, s.N])]),
      };
      const what = `matMul a[${inputs.a.shape}] b[${inputs.b.shape}] tA=${tA} tB=${tB}`;
      const want = await runOn('cpu', inputs, (t) => referenceMatMul(t.a, t.b, tA, tB));
      const got = await native(inputs, (t) => tf.matMul(t.a, t.b, tA, tB), what);
      assertClose(got[0], want[0], what);
    }
  }
});

test('small products and convs stay on wasm (below the size thresholds)', { skip }, async () => {
  const rng = new Rng(6);
  const inputs = { a: randomInput(rng, [3, 4]), b: randomInput(rng, [4, 5]), x: randomInput(rng, [1, 6, 6, 4]) };
  const f = (t: Record<string, tf.Tensor>) => [
    tf.matMul(t.a, t.b),
    tf.conv2d(t.x as tf.Tensor4D, tf.ones([3, 3, 4, 4]) as tf.Tensor4D, 1, 'same'),
  ];
  setNativeKernels(true);
  const n0 = nativeRunCount();
  const got = await runOn('wasm', inputs, f);
  assert.equal(nativeRunCount(), n0, 'a native call ran');
  const want = await runOn('cpu', inputs, f);
  want.forEach((w, i) => assertClose(got[i], w, `small op ${i}`));
});

test('small conv net: gradients with native kernels ≈ without (wasm) ≈ cpu', { skip }, async () => {
  const rng = new Rng(11);
  const inputs = {
    x: randomInput(rng, [2, 61, 57, 3]),
    w1: randomInput(rng, [7, 7, 3, 16]),
    b1: randomInput(rng, [16]),
    w2: randomInput(rng, [3, 3, 16, 24]),
    w3: randomInput(rng, [1, 1, 24, 32]),
    w4: randomInput(rng, [1, 1, 16, 32]),
    fc: randomInput(rng, [32, 5]),
  };
  const pad = (p: number): [[number, number], [number, number], [number, number], [number, number]] => [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ];
  const net = (...[x, w1, b1, w2, w3, w4, fc]: tf.Tensor[]): tf.Scalar => {
    const s = tf.fused.conv2d({
      x: x as tf.Tensor4D,
      filter: w1 as tf.Tensor4D,
      strides: 2,
      pad: pad(3),
      bias: b1,
      activation: 'relu',
    }); // [2, 31, 29, 16]
    const p = tf.maxPool(s, 3, 2, 1); // [2, 16, 15, 16]
    const h = tf.relu(tf.conv2d(p, w2 as tf.Tensor4D, 1, pad(1))); // [2, 16, 15, 24]
    const y = tf.relu(tf.add(tf.conv2d(h, w3 as tf.Tensor4D, 1, 'valid'), tf.conv2d(p, w4 as tf.Tensor4D, 1, 'valid')));
    const logits = tf.matMul(tf.mean(y, [1, 2]), fc); // [2, 5]
    return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([1, 3], 'int32'), 5), logits) as tf.Scalar;
  };
  const f = (t: Record<string, tf.Tensor>) => tf.grads(net)([t.x, t.w1, t.b1, t.w2, t.w3, t.w4, t.fc]);
  const want = await runOn('cpu', inputs, f);
  setNativeKernels(false);
  const wasm = await runOn('wasm', inputs, f);
  const got = await native(inputs, f, 'small conv net');
  want.forEach((w, i) => {
    assertClose(got[i], w, `grad ${i}: native vs cpu`, 1e-4);
    assertClose(got[i], wasm[i], `grad ${i}: native vs wasm`, 1e-4);
  });
});

function demoBatch(rng: Rng, b: number, h: number, w: number): TrainBatch {
  return {
    pixels: rng.normals(b * h * w * 3),
    mask: new Uint8Array(b * h * w).fill(1),
    shape: [b, h, w],
    targets: Array.from({ length: b }, (_, i) => ({
      labels: [i % 10, (3 * i + 1) % 10],
      boxesCxcywh: [
        [0.5, 0.5, 0.3, 0.4],
        [0.3, 0.6, 0.2, 0.1],
      ] as Array<[number, number, number, number]>,
    })),
    imageIds: Array.from({ length: b }, (_, i) => i + 1),
  };
}

test('demo DETR: two training steps give the same losses and gradient norms with and without', { skip }, async () => {
  await initEngine({ backend: 'wasm', log: null });
  const optim = { lr: 1e-4, lrBackbone: 1e-5, weightDecay: 1e-4, clipMaxNorm: 0.1 };
  const run = async (on: boolean): Promise<number[]> => {
    setNativeKernels(on);
    const rng = new Rng(7);
    const n0 = nativeRunCount();
    const t = new InProcessTrainer(DetrModel.create(resolveDetr({ numClasses: 10 }, 'demo'), new Rng(0)), {
      optim,
      seed: 0,
    });
    const out: number[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const r = await t.step(demoBatch(rng, 2, 64, 96), i, optim);
        out.push(...Object.values(r.terms), r.gradNorm);
      }
    } finally {
      await t.dispose();
    }
    assert.equal(nativeRunCount() > n0, on, `native calls ${on ? 'expected' : 'not expected'}`);
    return out;
  };
  const without = await run(false),
    withNative = await run(true);
  assert.equal(withNative.length, without.length);
  withNative.forEach((v, i) =>
    assert.ok(
      Math.abs(v - without[i]) <= 1e-5 * Math.abs(without[i]) + 1e-7,
      `value ${i}: native ${v} vs wasm ${without[i]} (relative ${Math.abs(v - without[i]) / Math.abs(without[i])})`,
    ),
  );
});

test('the engine registers them by default, not with DETRLAB_NATIVE_KERNELS=0, and says so', { skip }, () => {
  const engine = path.join(__dirname, '..', '..', 'lib', 'engine', 'index.js');
  const script = `require(${JSON.stringify(engine)}).initEngine({ backend: 'wasm', log: null })
    .then((e) => console.log(JSON.stringify(e.reason)))`;
  const reason = (env: string | undefined): string => {
    const r = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, DETRLAB_NATIVE_KERNELS: env },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as string;
  };
  assert.match(reason(undefined), /native kernels \(onnxruntime-node MLAS\): Conv2D, FusedConv2D/);
  assert.match(reason('1'), /native kernels \(onnxruntime-node MLAS\): Conv2D, FusedConv2D/);
  assert.match(reason('0'), /native kernels off \(DETRLAB_NATIVE_KERNELS=0\)/);
  assert.doesNotMatch(reason('0'), /MLAS/);
});
