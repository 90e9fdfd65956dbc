/**
 * Where a training step's time goes, per tfjs kernel (`npm run bench -- kernels [--r50] [--demo-batch N]`):
 * one profiled step (tf.profile, after warm-up steps) of the demo DETR and, with --r50, of DETR-R50 at 512×512,
 * in one process on the chosen backend (wasm: one instance, so R50 runs one image; its 4 GB heap). For each kernel:
 * calls, total ms, share of the summed kernel time, and MB allocated. The rest of the step (JavaScript between
 * kernels, tape bookkeeping, matching, the optimizer) is `step − Σ kernels`. Transposes, reshapes and copies are
 * grouped as "layout" so the cost of layout changes is visible. Figures go to runs/bench/kernels.json.
 * With --native (wasm only), every profile is taken twice in the same run, without and with the native kernels
 * (engine/native_kernels/), and the kernels they replace are compared side by side; and the cost of one call on
 * small tensors, native vs wasm, for the size threshold below which convolutions stay on wasm.
 */
import { initEngine } from '../lib/engine/backend.js';
import { Rng } from '../lib/engine/rng.js';
import { DetrModel } from '../lib/detr/model.js';
import { resolveDetr, DetrPreset } from '../lib/detr/config.js';
import { InProcessTrainer } from '../lib/train/trainer.js';
import type { KernelRecord } from '../lib/train/kernel_profile.js';
import type { TrainBatch } from '../lib/train/batch.js';
import * as tf from '@tensorflow/tfjs-core';
import { BenchFigures, OPTIM, syntheticBatch, writeBench } from './bench_util.js';
import {
  MIN_NATIVE_MACS,
  NATIVE_KERNELS,
  nativeSessionStats,
  setNativeConvPlan,
  registerNativeKernels,
  setNativeKernels,
} from '../lib/engine/native_kernels/index.js';

/** Kernels that only move or re-lay data. */
const LAYOUT = new Set([
  'Transpose',
  'Reshape',
  'Identity',
  'Cast',
  'Concat',
  'Slice',
  'Pad',
  'Tile',
  'Gather',
  'Pack',
  'Unpack',
  'Reverse',
  'StridedSlice',
  'BroadcastTo',
  'Fill',
]);

interface Row {
  kernel: string;
  calls: number;
  ms: number;
  mb: number;
}

function table(kernels: KernelRecord[], stepMs: number, title: string): { rows: Row[]; kernelMs: number } {
  const by = new Map<string, Row>();
  // `…__op` records are op wrappers (e.g. fusedConv2d__op around FusedConv2D): their time is their kernels'
  for (const k of kernels.filter((x) => !x.name.endsWith('__op'))) {
    const r = by.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0, mb: 0 };
    r.calls++;
    r.ms += k.kernelTimeMs;
    r.mb += Math.max(0, k.bytesAdded ?? 0) / 2 ** 20;
    by.set(k.name, r);
  }
  const rows = [...by.values()].sort((a, b) => b.ms - a.ms);
  const kernelMs = rows.reduce((a, r) => a + r.ms, 0);
  const layoutMs = rows.filter((r) => LAYOUT.has(r.kernel)).reduce((a, r) => a + r.ms, 0);
  console.log(
    `\n${title}: step ${stepMs.toFixed(0)} ms, Σ kernels ${kernelMs.toFixed(0)} ms (${((100 * kernelMs) / stepMs).toFixed(0)} %), ${kernels.length} kernel calls`,
  );
  console.log(
    `${'kernel'.padEnd(28)} ${'calls'.padStart(6)} ${'ms'.padStart(9)} ${'% kern'.padStart(7)} ${'MB alloc'.padStart(9)}`,
  );
  for (const r of rows.slice(0, 25))
    console.log(
      `${r.kernel.padEnd(28)} ${String(r.calls).padStart(6)} ${r.ms.toFixed(1).padStart(9)} ${((100 * r.ms) / kernelMs).toFixed(1).padStart(7)} ${r.mb.toFixed(1).padStart(9)}`,
    );
  console.log(
    `layout kernels (${[...LAYOUT].filter((n) => by.has(n)).join(', ')}): ${layoutMs.toFixed(0)} ms (${((100 * layoutMs) / kernelMs).toFixed(1)} % of kernel time)`,
  );
  return { rows, kernelMs };
}

async function profileStep(
  preset: DetrPreset,
  make: () => TrainBatch,
  warmup: number,
  title: string,
  fig: BenchFigures,
  key: string,
): Promise<Row[]> {
  const t = new InProcessTrainer(DetrModel.create(resolveDetr({ numClasses: 10 }, preset), new Rng(0)), {
    optim: OPTIM,
    seed: 0,
  });
  try {
    for (let i = 0; i < warmup; i++) await t.step(make(), i, OPTIM);
    const t0 = performance.now();
    const r = await t.step(make(), warmup, OPTIM, true);
    const stepMs = performance.now() - t0;
    const { rows, kernelMs } = table(r.kernels ?? [], stepMs, title);
    fig[`${key}_step_ms`] = stepMs;
    fig[`${key}_kernel_ms`] = kernelMs;
    fig[`${key}_kernel_calls`] = r.kernels?.length ?? 0;
    fig[`${key}_layout_ms`] = rows.filter((x) => LAYOUT.has(x.kernel)).reduce((a, x) => a + x.ms, 0);
    for (const x of rows.slice(0, 12)) {
      fig[`${key}_${x.kernel}_ms`] = x.ms;
      fig[`${key}_${x.kernel}_calls`] = x.calls;
    }
    return rows;
  } finally {
    await t.dispose();
  }
}

/** The kernels native code replaces, wasm vs native, from two profiles of the same step. */
function compareRows(wasm: Row[], native: Row[], title: string, fig: BenchFigures, key: string): void {
  console.log(`\n${title}: wasm vs native kernels (ms over the step)`);
  for (const name of NATIVE_KERNELS) {
    const w = wasm.find((r) => r.kernel === name),
      n = native.find((r) => r.kernel === name);
    if (!w && !n) continue;
    const wm = w?.ms ?? 0,
      nm = n?.ms ?? 0;
    console.log(
      `${name.padEnd(28)} ${wm.toFixed(1).padStart(9)} ${nm.toFixed(1).padStart(9)}  ×${(wm / nm).toFixed(2)}`,
    );
    fig[`${key}_${name}_ms_native`] = nm;
  }
}

/** Median µs of `fn` over `n` calls (after 3 warm-up calls), tensors disposed. */
function medianUs(fn: () => tf.Tensor, n = 41): number {
  for (let i = 0; i < 3; i++) fn().dispose();
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn().dispose();
    ts.push((performance.now() - t0) * 1000);
  }
  return ts.sort((a, b) => a - b)[n >> 1];
}

/** One call of a conv (3×3, same) and a matmul on small tensors, wasm vs native (forced past the threshold). */
function smallCallCost(fig: BenchFigures): void {
  console.log(`\nper-call cost on small tensors (median µs; convs below ${MIN_NATIVE_MACS} MACs stay on wasm)`);
  console.log(`${'op'.padEnd(34)} ${'MACs'.padStart(9)} ${'wasm'.padStart(8)} ${'native'.padStart(8)}`);
  const rng = new Rng(5);
  const cases: Array<[string, number[], number]> = [
    ['conv 3×3 [1,4,4,4]→4', [1, 4, 4, 4], 4],
    ['conv 3×3 [1,8,8,8]→8', [1, 8, 8, 8], 8],
    ['conv 3×3 [1,8,8,16]→16', [1, 8, 8, 16], 16],
    ['conv 3×3 [1,16,16,16]→16', [1, 16, 16, 16], 16],
    ['conv 3×3 [1,16,16,32]→32', [1, 16, 16, 32], 32],
  ];
  const time = (f: () => tf.Tensor): [number, number] => {
    setNativeKernels(false);
    const w = medianUs(f);
    setNativeKernels(true);
    const n = medianUs(f);
    return [w, n];
  };
  for (const [name, shape, co] of cases) {
    const x = tf.tensor4d(rng.normals(shape.reduce((a, b) => a * b, 1)), shape as [number, number, number, number]);
    const w = tf.tensor(rng.normals(9 * shape[3] * co), [3, 3, shape[3], co]) as tf.Tensor4D;
    setNativeConvPlan('forward', 'conv');
    const [tw, tn] = time(() => tf.conv2d(x, w, 1, 'same'));
    setNativeConvPlan('forward', null);
    const macs = shape[1] * shape[2] * 9 * shape[3] * co;
    console.log(
      `${name.padEnd(34)} ${String(macs).padStart(9)} ${tw.toFixed(0).padStart(8)} ${tn.toFixed(0).padStart(8)}`,
    );
    fig[`small_${name.replace(/[^0-9a-z]+/gi, '_')}_us`] = `wasm ${tw.toFixed(0)}, native ${tn.toFixed(0)}`;
    tf.dispose([x, w]);
  }
  for (const n of [4, 16, 64]) {
    const a = tf.tensor(rng.normals(n * n), [n, n]),
      b = tf.tensor(rng.normals(n * n), [n, n]);
    const [tw, tn] = time(() => tf.matMul(a, b, false, true));
    const name = `matMul ${n}×${n}·(${n}×${n})ᵀ`;
    console.log(
      `${name.padEnd(34)} ${String(n ** 3).padStart(9)} ${tw.toFixed(0).padStart(8)} ${tn.toFixed(0).padStart(8)}`,
    );
    fig[`small_matmul_${n}_us`] = `wasm ${tw.toFixed(0)}, native ${tn.toFixed(0)}`;
    tf.dispose([a, b]);
  }
}

async function main(): Promise<void> {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const engine = await initEngine({ backend: (arg('--backend') as never) ?? 'auto' });
  const fig: BenchFigures = { backend: engine.backend, note: 'one profiled step in one process (no worker threads)' };
  const compare = process.argv.includes('--native');
  if (compare) {
    if (engine.backend !== 'wasm') throw new Error(`--native needs the wasm backend, not ${engine.backend}`);
    const r = registerNativeKernels();
    if (!r.ok) throw new Error(`--native: ${r.detail}`);
  }
  const rng = new Rng(1);
  const b = Number(arg('--demo-batch') ?? 8);
  fig.demo_batch = b;
  const runs: Array<[string, DetrPreset, () => TrainBatch, number, string]> = [
    ['demo', 'demo', () => syntheticBatch(b, 128, 160, rng, 10), 2, `demo DETR, batch ${b}, 128×160`],
  ];
  if (process.argv.includes('--r50'))
    runs.push(['r50', 'detr-resnet-50', () => syntheticBatch(1, 512, 512, rng, 10), 1, 'DETR-R50, batch 1, 512×512']);
  for (const [key, preset, make, warmup, title] of runs) {
    if (!compare) {
      await profileStep(preset, make, warmup, title, fig, key);
      continue;
    }
    setNativeKernels(false);
    const wasm = await profileStep(preset, make, warmup, `${title}, wasm kernels`, fig, key);
    setNativeKernels(true);
    const native = await profileStep(preset, make, warmup, `${title}, native kernels`, fig, `${key}_native`);
    compareRows(wasm, native, title, fig, key);
    console.log(`native sessions built so far: ${nativeSessionStats().built}`);
  }
  if (compare) smallCallCost(fig);
  writeBench('kernels', fig);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
