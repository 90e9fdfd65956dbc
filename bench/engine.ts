/**
 * Engine benchmark: `npm run bench -- engine [--quick]` (--quick: skips 512×512 and the cpu figures).
 *
 * wasm backend with detrlab's kernels, next to tfjs' own wasm kernels where tfjs has one:
 * - conv2d forward (filter already packed / new filter), backward filter and input, GFLOP/s, on
 *   ResNet-50 shapes at 224×224;
 * - matMul GFLOP/s: plain, transposed (as in gradients), batched (attention), [B,T,D]·[D,E];
 * - ResNet-50 (DETR backbone, all convs trainable) at batch 1, 224² and 512²: forward, forward+backward
 *   (gradients w.r.t. every conv weight) with unchanged weights, and a training-like step whose weights
 *   are new tensors every step (as after an optimizer update); ratio fwd+bwd / fwd.
 * cpu backend: a few small figures only (pure JavaScript; ResNet-50 there would take minutes).
 * Both backends compute on one thread, so times are medians of this process's CPU time (which a busy
 * shared machine inflates far less than wall time); ResNet-50 figures also give wall time (`_wall_ms`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../lib/engine/index.js';
import { Rng } from '../lib/engine/rng.js';
import { replacedTfjsWasmKernels, withTfjsWasmKernels } from '../lib/engine/wasm_kernels/index.js';
import { ParamStore } from '../lib/detr/param_store.js';
import { backboneForward, backboneSpecs, type BackboneConfig } from '../lib/detr/backbone.js';
import { textTable, type Row } from '../lib/viz/table.js';
import { writeBench, type BenchFigures } from './bench_util.js';

const quick = process.argv.includes('--quick');
const figures: BenchFigures = {};
const rows: Row[] = [];

interface ConvCase {
  name: string;
  hw: number;
  ci: number;
  co: number;
  k: number;
  s: number;
}
const CONVS: ConvCase[] = [
  { name: 'stem_7x7s2_3to64_224', hw: 224, ci: 3, co: 64, k: 7, s: 2 },
  { name: 'l1_3x3_64_56', hw: 56, ci: 64, co: 64, k: 3, s: 1 },
  { name: 'l1_1x1_64to256_56', hw: 56, ci: 64, co: 256, k: 1, s: 1 },
  { name: 'l2_3x3s2_128_56', hw: 56, ci: 128, co: 128, k: 3, s: 2 },
  { name: 'l3_3x3_256_14', hw: 14, ci: 256, co: 256, k: 3, s: 1 },
  { name: 'l3_1x1_1024to256_14', hw: 14, ci: 1024, co: 256, k: 1, s: 1 },
  { name: 'l4_3x3_512_7', hw: 7, ci: 512, co: 512, k: 3, s: 1 },
  { name: 'l4_1x1_512to2048_7', hw: 7, ci: 512, co: 2048, k: 1, s: 1 },
];

interface Timing {
  cpu: number;
  wall: number;
}
/** Median CPU and wall ms of `run` over `reps` runs, `prepare` (untimed) before each, one warm-up. */
function timeRuns(run: () => void, reps: number, prepare: () => void = () => undefined): Timing {
  prepare();
  run();
  const cpu: number[] = [],
    wall: number[] = [];
  for (let i = 0; i < reps; i++) {
    prepare();
    const c0 = process.cpuUsage(),
      t0 = performance.now();
    run();
    const c = process.cpuUsage(c0);
    wall.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
  }
  const median = (v: number[]): number => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return { cpu: median(cpu), wall: median(wall) };
}
/** Median CPU ms of `f` (its tensors disposed, results read back so the work is done). */
async function timeOp(f: () => tf.Tensor, reps = 3): Promise<number> {
  return timeRuns(() => {
    const y = f();
    y.dataSync();
    y.dispose();
  }, reps).cpu;
}
const gflops = (flops: number, ms: number): number => flops / ms / 1e6;

/** One figure with its tfjs counterpart (null where tfjs' wasm backend has no such kernel). */
async function compare(
  key: string,
  flops: number,
  f: () => tf.Tensor,
  tfjsKernels: string[] | null,
  reps = 3,
): Promise<void> {
  const ours = gflops(flops, await timeOp(f, reps));
  const theirs = tfjsKernels ? gflops(flops, await withTfjsWasmKernels(tfjsKernels, () => timeOp(f, reps))) : null;
  figures[`${key}_gflops`] = ours;
  if (theirs !== null) {
    figures[`${key}_tfjs_gflops`] = theirs;
    figures[`${key}_speedup_x`] = ours / theirs;
  }
  rows.push({
    figure: key,
    'detrlab GFLOP/s': ours,
    'tfjs GFLOP/s': theirs ?? 'missing',
    'speed-up ×': theirs ? ours / theirs : '',
  });
}

async function convFigures(c: ConvCase, backend: string, tfjs: boolean): Promise<void> {
  const rng = new Rng(1);
  const p = c.k >> 1,
    pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ];
  const x = tf.tensor4d(rng.normals(c.hw * c.hw * c.ci), [1, c.hw, c.hw, c.ci]); // [1, H, W, ci]
  const w = tf.tensor4d(rng.normals(c.k * c.k * c.ci * c.co, 0.05), [c.k, c.k, c.ci, c.co]); // [k, k, ci, co]
  const ho = Math.floor((c.hw + 2 * p - c.k) / c.s) + 1;
  const dy = tf.tensor4d(rng.normals(ho * ho * c.co), [1, ho, ho, c.co]); // [1, Ho, Wo, co]
  const flops = 2 * ho * ho * c.k * c.k * c.ci * c.co,
    key = `${backend === 'cpu' ? 'cpu_' : ''}conv_${c.name}`;
  const attrs = { strides: c.s, pad, dataFormat: 'NHWC' };
  const t = (names: string[]): string[] | null => (tfjs ? names : null);
  // Unchanged filter: XNNPACK packs it once and keeps it (detrlab's plan settles after two calls).
  for (let i = 0; i < 2; i++) tf.conv2d(x, w, c.s, pad).dispose();
  await compare(`${key}_fwd`, flops, () => tf.conv2d(x, w, c.s, pad), t(['Conv2D']));
  await compare(
    `${key}_fwd_new_filter`,
    flops,
    () => tf.tidy(() => tf.conv2d(x, tf.clone(w), c.s, pad)),
    t(['Conv2D']),
  );
  await compare(
    `${key}_dw`,
    flops,
    () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor,
    null,
  );
  if (c.k === 3 && backend === 'wasm')
    await compare(`${key}_dw_as_dilated_conv`, flops, () => dwAsDilatedConv(x, dy, c.k, c.s), null);
  await compare(
    `${key}_dx`,
    flops,
    () =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor,
    t(['Conv2DBackpropInput']),
  );
  tf.dispose([x, w, dy]);
}

/**
 * The alternative filter gradient, measured for comparison: dW[i,j,c,o] = Σ x_pad[b, s·y+i, s·x+j, c]·dy[b, y, x, o]
 * is a forward conv of x_padᵀ [c, Hp, Wp, b] with dy as a [Ho, Wo, b, o] filter, dilated by the stride.
 */
function dwAsDilatedConv(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, s: number): tf.Tensor {
  return tf.tidy(() => {
    const p = k >> 1,
      [, ho, wo] = dy.shape;
    const xp = tf.slice(
      tf.pad(x, [
        [0, 0],
        [p, p],
        [p, p],
        [0, 0],
      ]),
      [0, 0, 0, 0],
      [-1, (ho - 1) * s + k, (wo - 1) * s + k, -1],
    );
    const y = tf.conv2d(
      tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D,
      tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D,
      1,
      'valid',
      'NHWC',
      s,
    ); // [c, k, k, o]
    return tf.transpose(y, [1, 2, 0, 3]); // [k, k, c, o]
  });
}

/** Small enough for tfjs' cpu kernels (its filter gradient runs at ~0.01 GFLOP/s). */
const CPU_CONV: ConvCase = { name: 'small_3x3_64_14', hw: 14, ci: 64, co: 64, k: 3, s: 1 };

interface MatmulCase {
  name: string;
  a: number[];
  b: number[];
  tA: boolean;
  tB: boolean;
}
const MATMULS: MatmulCase[] = [
  { name: 'linear_2048x256x256', a: [2048, 256], b: [256, 256], tA: false, tB: false },
  { name: 'linear_grad_x_2048x256x256_tB', a: [2048, 256], b: [256, 256], tA: false, tB: true },
  { name: 'linear_grad_w_256x2048x256_tA', a: [2048, 256], b: [2048, 256], tA: true, tB: false },
  { name: 'ffn_2048x256x2048', a: [2048, 256], b: [256, 2048], tA: false, tB: false },
  { name: 'linear3d_2x1024x256x256', a: [2, 1024, 256], b: [256, 256], tA: false, tB: false },
  { name: 'attn_scores_16x1024x32x1024_tB', a: [16, 1024, 32], b: [16, 1024, 32], tA: false, tB: true },
  { name: 'attn_values_16x1024x1024x32', a: [16, 1024, 1024], b: [16, 1024, 32], tA: false, tB: false },
];

async function matmulFigures(m: MatmulCase, backend: string, tfjs: boolean): Promise<void> {
  const rng = new Rng(2);
  const n = (s: number[]): number => s.reduce((u, v) => u * v, 1);
  const a = tf.tensor(rng.normals(n(m.a)), m.a),
    b = tf.tensor(rng.normals(n(m.b)), m.b);
  const out = tf.matMul(a, b, m.tA, m.tB); // [..., M, N]
  const K = m.tA ? m.a[m.a.length - 2] : m.a[m.a.length - 1];
  const flops = 2 * out.size * K;
  out.dispose();
  await compare(
    `${backend === 'cpu' ? 'cpu_' : ''}matmul_${m.name}`,
    flops,
    () => tf.matMul(a, b, m.tA, m.tB),
    tfjs ? ['BatchMatMul'] : null,
  );
  tf.dispose([a, b]);
}

const R50: BackboneConfig = { depth: 50, width: 64, numStages: 4, trainableFrom: 'all' };

async function resnetFigures(p: ParamStore, size: number, tfjsBaseline: boolean): Promise<void> {
  const x = tf.tensor4d(new Rng(3).normals(size * size * 3), [1, size, size, 3]); // [1, S, S, 3]
  const vars = [...p.trainable().values()];
  const fwd = (): void => {
    const y = backboneForward(p, R50, x);
    y.dataSync();
    y.dispose();
  };
  const fwdBwd = (): void => {
    const { value, grads } = tf.variableGrads(() => tf.mean(backboneForward(p, R50, x)) as tf.Scalar, vars);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  const renew = (): void => {
    for (const v of vars) v.assign(tf.tidy(() => tf.mul(v, 1)));
  }; // new tensors, same values
  const reps = size > 256 ? 2 : 3,
    key = `resnet50_${size}`;
  const record = (name: string, t: Timing): void => {
    figures[`${key}_${name}_ms`] = t.cpu;
    figures[`${key}_${name}_wall_ms`] = t.wall;
  };
  record('fwd', timeRuns(fwd, reps));
  record('fwdbwd', timeRuns(fwdBwd, reps));
  record('fwd_new_weights', timeRuns(fwd, reps, renew));
  record('fwdbwd_new_weights', timeRuns(fwdBwd, reps, renew));
  const ratio = (a: string, b: string): number =>
    (figures[`${key}_${a}_ms`] as number) / (figures[`${key}_${b}_ms`] as number);
  figures[`${key}_fwdbwd_over_fwd`] = ratio('fwdbwd', 'fwd');
  figures[`${key}_fwdbwd_over_fwd_new_weights`] = ratio('fwdbwd_new_weights', 'fwd_new_weights');
  if (tfjsBaseline) {
    // tfjs' own kernels wherever it has one (it has no Conv2DBackpropFilter: detrlab's stays in).
    record(
      'fwdbwd_tfjs_kernels',
      await withTfjsWasmKernels(replacedTfjsWasmKernels(), async () => timeRuns(fwdBwd, 1)),
    );
    figures[`${key}_fwdbwd_speedup_x`] = ratio('fwdbwd_tfjs_kernels', 'fwdbwd');
  }
  x.dispose();
  console.error(
    `[engine] ResNet-50 ${size}²: fwd ${(figures[`${key}_fwd_ms`] as number).toFixed(0)} ms, fwd+bwd ${(figures[`${key}_fwdbwd_ms`] as number).toFixed(0)} ms`,
  );
}

async function main(): Promise<void> {
  const engine = await initEngine({ backend: 'wasm' });
  figures.backend = engine.backend;
  for (const c of CONVS) await convFigures(c, 'wasm', true);
  for (const m of MATMULS) await matmulFigures(m, 'wasm', true);
  const p = new ParamStore(backboneSpecs(R50)).initAll(new Rng(0));
  await resnetFigures(p, 224, true);
  if (!quick) await resnetFigures(p, 512, false);
  else figures.resnet50_512 = 'skipped (--quick)';
  p.dispose();
  if (!quick) {
    await initEngine({ backend: 'cpu' });
    await convFigures(CPU_CONV, 'cpu', false);
    await matmulFigures(
      { name: 'small_512x256x256', a: [512, 256], b: [256, 256], tA: false, tB: false },
      'cpu',
      false,
    );
    figures.cpu_resnet50 = 'skipped: pure JavaScript, about 100× slower than wasm';
  } else {
    figures.cpu = 'skipped (--quick)';
  }
  figures.note =
    'times and GFLOP/s from process CPU time (medians; *_wall_ms: wall clock, inflated on a busy shared machine); *_new_weights: weights are new tensors every step, as in training';
  console.log(textTable(rows, 2));
  for (const s of [224, 512]) {
    const r = figures[`resnet50_${s}_fwdbwd_over_fwd`];
    if (typeof r === 'number')
      console.log(
        `ResNet-50 ${s}²: fwd+bwd / fwd = ${r.toFixed(2)} (new weights each step: ${(figures[`resnet50_${s}_fwdbwd_over_fwd_new_weights`] as number).toFixed(2)})`,
      );
  }
  writeBench('engine', figures);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
