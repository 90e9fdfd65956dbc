/**
 * WebGPU benchmark: `npm run bench -- webgpu [--quick]` (--quick: ops, ResNet-50 at 224², demo steps; no DETR-R50).
 * On a software adapter allowed for testing (DETRLAB_WEBGPU_ALLOW_CPU=1) only a few small figures run.
 *
 * Where tfjs' webgpu backend starts on a GPU adapter (lib/engine/webgpu.ts):
 * - conv2d forward / backprop-filter / backprop-input and matMul GFLOP/s on ResNet-50 and DETR shapes;
 * - ResNet-50 (all convs trainable) forward and forward+backward at batch 1, 224² and 512²;
 * - DETR-R50 (facebook/detr-resnet-50 shapes) at batch 2: eval forward, and a whole training step
 *   (forward, Hungarian matching, set loss with aux, backward, clip, AdamW) at 512×512 and 800×1066;
 * - the demo model's training step at the demo fine-tune's batch (2) and image size (~128×192), and at 8.
 * The training step is the trainer's own (InProcessTrainer; every read is awaited, which Dawn needs under
 * Node). GPU work is asynchronous: each timing ends with a read
 * of a result, so it is wall time per call including dispatch. Figures from one process only.
 * Without an adapter it prints why and writes runs/bench/webgpu.json with webgpu_available: false.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../lib/engine/index.js';
import { Rng } from '../lib/engine/rng.js';
import { webGpuErrors } from '../lib/engine/webgpu.js';
import { ParamStore } from '../lib/detr/param_store.js';
import { backboneForward, backboneSpecs, type BackboneConfig } from '../lib/detr/backbone.js';
import { DetrModel } from '../lib/detr/model.js';
import { DetrConfig, resolveDetr } from '../lib/detr/config.js';
import { textTable, type Row } from '../lib/viz/table.js';
import { InProcessTrainer } from '../lib/train/trainer.js';
import { TrainBatch } from '../lib/train/batch.js';
import { parityInputs } from '../tests/engine/webgpu_parity.js';
import { writeBench, type BenchFigures } from './bench_util.js';

const quick = process.argv.includes('--quick');
const figures: BenchFigures = {};
const rows: Row[] = [];

/** Median wall ms of `run()` + an awaited read of its result (first call = warm-up: shader compilation). */
async function timeGpu(run: () => tf.Tensor | Promise<tf.Tensor | void> | void, reps: number): Promise<number> {
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const y = await run();
    if (y) {
      await tf.tidy(() => tf.sum(y)).data();
      y.dispose();
    } // sum: one scalar back, not the tensor
    return performance.now() - t0;
  };
  await once();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) ts.push(await once());
  return ts.sort((a, b) => a - b)[Math.floor(ts.length / 2)];
}

async function record(
  key: string,
  flops: number | null,
  run: () => tf.Tensor | Promise<tf.Tensor | void> | void,
  reps = 5,
): Promise<number> {
  const ms = await timeGpu(run, reps);
  figures[`${key}_ms`] = ms;
  if (flops !== null) figures[`${key}_gflops`] = flops / ms / 1e6;
  rows.push({ figure: key, ms, 'GFLOP/s': flops !== null ? flops / ms / 1e6 : '' });
  process.stderr.write(
    `[bench] ${key}: ${ms.toFixed(1)} ms${flops !== null ? `, ${(flops / ms / 1e6).toFixed(1)} GFLOP/s` : ''}\n`,
  );
  return ms;
}

interface ConvCase {
  name: string;
  b: number;
  hw: number;
  ci: number;
  co: number;
  k: number;
  s: number;
}
const CONVS: ConvCase[] = [
  { name: 'stem_7x7s2_3to64_224', b: 1, hw: 224, ci: 3, co: 64, k: 7, s: 2 },
  { name: 'l1_3x3_64_56', b: 1, hw: 56, ci: 64, co: 64, k: 3, s: 1 },
  { name: 'l1_1x1_64to256_56', b: 1, hw: 56, ci: 64, co: 256, k: 1, s: 1 },
  { name: 'l3_3x3_256_14', b: 1, hw: 14, ci: 256, co: 256, k: 3, s: 1 },
  { name: 'l4_1x1_512to2048_7', b: 1, hw: 7, ci: 512, co: 2048, k: 1, s: 1 },
  { name: 'l1_3x3_64_b2_200x267', b: 2, hw: 200, ci: 64, co: 64, k: 3, s: 1 }, // DETR at 800×1066 (square stand-in)
];

async function convFigures(c: ConvCase): Promise<void> {
  const rng = new Rng(1),
    p = c.k >> 1;
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ];
  const ho = Math.floor((c.hw + 2 * p - c.k) / c.s) + 1;
  const x = tf.tensor4d(rng.normals(c.b * c.hw * c.hw * c.ci), [c.b, c.hw, c.hw, c.ci]); // [B, H, W, ci]
  const w = tf.tensor4d(rng.normals(c.k * c.k * c.ci * c.co, 0.05), [c.k, c.k, c.ci, c.co]); // [k, k, ci, co]
  const dy = tf.tensor4d(rng.normals(c.b * ho * ho * c.co), [c.b, ho, ho, c.co]); // [B, Ho, Wo, co]
  const flops = 2 * c.b * ho * ho * c.k * c.k * c.ci * c.co,
    attrs = { strides: c.s, pad, dataFormat: 'NHWC' };
  await record(`conv_${c.name}_fwd`, flops, () => tf.conv2d(x, w, c.s, pad));
  await record(
    `conv_${c.name}_dw`,
    flops,
    () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor,
  );
  await record(
    `conv_${c.name}_dx`,
    flops,
    () =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor,
  );
  tf.dispose([x, w, dy]);
}

const MATMULS: Array<{ name: string; a: number[]; b: number[]; tB: boolean }> = [
  { name: 'linear_2048x256x256', a: [2048, 256], b: [256, 256], tB: false },
  { name: 'ffn_2048x256x2048', a: [2048, 256], b: [256, 2048], tB: false },
  { name: 'ffn_b2_1700x256x2048', a: [2 * 850, 256], b: [256, 2048], tB: false }, // 800×1066: 25×34 tokens per image
  { name: 'attn_scores_16x850x32x850_tB', a: [16, 850, 32], b: [16, 850, 32], tB: true },
  { name: 'big_4096x4096x4096', a: [4096, 4096], b: [4096, 4096], tB: false },
];

async function matmulFigures(m: (typeof MATMULS)[number]): Promise<void> {
  const rng = new Rng(2),
    n = (s: number[]): number => s.reduce((u, v) => u * v, 1);
  const a = tf.tensor(rng.normals(n(m.a)), m.a),
    b = tf.tensor(rng.normals(n(m.b)), m.b);
  const outSize = n(m.a.slice(0, -1)) * (m.tB ? m.b[m.b.length - 2] : m.b[m.b.length - 1]);
  await record(`matmul_${m.name}`, 2 * outSize * m.a[m.a.length - 1], () => tf.matMul(a, b, false, m.tB));
  tf.dispose([a, b]);
}

const R50: BackboneConfig = { depth: 50, width: 64, numStages: 4, trainableFrom: 'all' };

async function resnetFigures(p: ParamStore, size: number): Promise<void> {
  const x = tf.tensor4d(new Rng(3).normals(size * size * 3), [1, size, size, 3]); // [1, S, S, 3]
  const vars = [...p.trainable().values()];
  await record(`resnet50_${size}_fwd`, null, () => backboneForward(p, R50, x), 5);
  await record(
    `resnet50_${size}_fwdbwd`,
    null,
    () => {
      const { value, grads } = tf.variableGrads(() => tf.mean(backboneForward(p, R50, x)) as tf.Scalar, vars);
      tf.dispose(grads);
      return value;
    },
    3,
  );
  figures[`resnet50_${size}_fwdbwd_over_fwd`] =
    (figures[`resnet50_${size}_fwdbwd_ms`] as number) / (figures[`resnet50_${size}_fwd_ms`] as number);
  x.dispose();
}

/** DETR eval forward, or whole training steps through the trainer itself; a failure is recorded, not thrown. */
async function detrFigures(
  key: string,
  cfg: DetrConfig,
  batch: number,
  h: number,
  w: number,
  train: boolean,
  reps: number,
): Promise<void> {
  const model = DetrModel.create(cfg, new Rng(0));
  const x = parityInputs({ cfg, batch, h, w });
  const px = tf.tensor4d(x.pixels, [batch, h, w, 3]),
    mask = tf.tensor3d(x.mask, [batch, h, w], 'int32'); // [B, H, W, 3], [B, H, W]
  const trainer = new InProcessTrainer(model, {
    optim: { lr: 1e-4, lrBackbone: 1e-5, weightDecay: 1e-4, clipMaxNorm: 0.1 },
    seed: 0,
  });
  const tb: TrainBatch = {
    pixels: x.pixels,
    mask: Uint8Array.from(x.mask),
    shape: [batch, h, w],
    targets: x.targets,
    imageIds: x.targets.map((_, i) => i + 1),
  };
  let step = 0;
  try {
    const ms = train
      ? await record(
          `${key}_train_step`,
          null,
          async () => {
            await trainer.step(tb, step++, { lr: 1e-4, lrBackbone: 1e-5 });
            return tf.clone(model.params.get('class_labels_classifier.bias')); // read after AdamW: the update is done
          },
          reps,
        )
      : await record(`${key}_forward`, null, () => tf.tidy(() => model.forward(px, mask).logits), reps);
    figures[`${key}_${train ? 'train' : 'forward'}_img_per_s`] = (1000 * batch) / ms;
  } catch (e) {
    figures[`${key}_${train ? 'train' : 'forward'}_error`] = String((e as Error)?.message ?? e)
      .split('\n')[0]
      .slice(0, 200);
    console.error(`[bench] ${key}: failed: ${figures[`${key}_${train ? 'train' : 'forward'}_error`]}`);
  } finally {
    figures[`${key}_gpu_mb_allocated`] = Math.round(
      ((tf.memory() as { numBytesAllocatedInGPU?: number }).numBytesAllocatedInGPU ?? 0) / 2 ** 20,
    );
    tf.dispose([px, mask]);
    await trainer.dispose();
  }
}

/** `cpu`: a software adapter allowed for testing — only the small figures, to check the code path. */
async function gpuFigures(scope: 'cpu' | 'quick' | 'full'): Promise<void> {
  for (const c of scope === 'cpu' ? CONVS.slice(1, 3) : CONVS) await convFigures(c);
  for (const m of scope === 'cpu' ? MATMULS.slice(0, 2) : MATMULS) await matmulFigures(m);
  const demo = resolveDetr({ numClasses: 20 }, 'demo');
  await detrFigures('demo_b2_128x192', demo, 2, 128, 192, true, scope === 'cpu' ? 2 : 10);
  if (scope === 'cpu') return;
  await detrFigures('demo_b8_128x192', demo, 8, 128, 192, true, 5);
  const p = new ParamStore(backboneSpecs(R50)).initAll(new Rng(0));
  await resnetFigures(p, 224);
  if (scope === 'full') await resnetFigures(p, 512);
  p.dispose();
  if (scope === 'quick') return;
  const r50 = resolveDetr({ numClasses: 91 });
  for (const [h, w, reps] of [
    [512, 512, 3],
    [800, 1066, 2],
  ]) {
    await detrFigures(`r50_b2_${h}x${w}`, r50, 2, h, w, false, reps);
    await detrFigures(`r50_b2_${h}x${w}`, r50, 2, h, w, true, reps);
  }
}

async function main(): Promise<void> {
  let engine;
  try {
    engine = await initEngine({ backend: 'webgpu' });
  } catch (e) {
    const reason = String((e as Error)?.message ?? e);
    console.log(`webgpu is not available here: ${reason}\n(docs/gpu.md says what to install.)`);
    writeBench('webgpu', { backend: 'none', webgpu_available: false, reason });
    return;
  }
  const a = engine.adapter ?? {};
  const limits = (a.deviceLimits ?? {}) as Record<string, number>;
  Object.assign(figures, {
    backend: engine.backend,
    webgpu_available: true,
    adapter: String(a.name),
    driver: String(a.driver),
    gpu_backend: String(a.backendType),
    cpu_adapter_for_testing: a.cpuAdapterAllowedForTesting === true,
    max_buffer_size_mb: (limits.maxBufferSize ?? 0) / 2 ** 20,
    max_storage_binding_mb: (limits.maxStorageBufferBindingSize ?? 0) / 2 ** 20,
    quick,
  });
  await gpuFigures(a.cpuAdapterAllowedForTesting === true ? 'cpu' : quick ? 'quick' : 'full');
  figures.webgpu_errors = webGpuErrors().length;
  if (webGpuErrors().length) figures.webgpu_first_error = webGpuErrors()[0];
  figures.note =
    'wall ms per call incl. dispatch and one scalar read-back (median; first call = shader compilation, untimed); train_step = forward, matching, loss with aux, backward, clip, AdamW';
  console.log(textTable(rows, 2));
  writeBench('webgpu', figures);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
