/**
 * Training throughput (`npm run bench -- train` → runs/bench/train.json):
 *  - the demo variant through the real trainer (data-parallel workers, AdamW, clipping) on demo-like batches:
 *    `demo_train_img_per_s`, and the share of time in data loading, forward, matching + loss, backward and
 *    the optimizer (from the profiler trace's phase totals);
 *  - one full DETR-R50 training step — forward, loss, backward, clip, AdamW — at batch 2, 512×512
 *    (`detr_r50_512_b2_step_ms`), split over the workers (one image each: wasm's 4 GB heap per instance),
 *    and at the original experiment's 800×1066 (`detr_r50_800x1066_b2_step_ms`; with --native, native only).
 * With DETRLAB_PYTHON (a Python with torch) and DETR_SRC (facebookresearch/detr) set, PyTorch's time for the same R50
 * step is measured in the same run (bench/reference/detr_step_time.py, as many threads as workers) and the ratio
 * printed; otherwise the figure says why it is missing.
 *
 * With --native, each figure is taken twice in the same run, with and without the native kernels
 * (DETRLAB_NATIVE_KERNELS=1, engine/native_kernels/): `…_native` figures beside the wasm ones, the demo's steps
 * alternating between the two trainers so that load changes hit both alike.
 *
 *   npm run bench -- train [--quick] [--native]        --quick: the demo part only
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { initEngine } from '../lib/engine/backend.js';
import { defaultWorkers } from '../lib/engine/workers.js';
import { Rng } from '../lib/engine/rng.js';
import { DetrModel } from '../lib/detr/model.js';
import { resolveDetr, DetrPreset } from '../lib/detr/config.js';
import { ThreadTrainer, InProcessTrainer, Trainer, StepResult } from '../lib/train/trainer.js';
import { TrainBatch } from '../lib/train/batch.js';
import { writeBench, peakRssMb, BenchFigures, OPTIM, syntheticBatch } from './bench_util.js';
import {
  NATIVE_KERNELS_ENV,
  nativeKernelsRequested,
  registerNativeKernels,
  setNativeKernels,
} from '../lib/engine/native_kernels/index.js';

/**
 * Untimed R50 steps before timing, for detrlab and PyTorch alike. Two, not one: detrlab's workers are still
 * growing their wasm heaps and building native sessions in step 1 (measured on a 2-core EPYC, batch 2 at 512²:
 * 7.0, 4.1, then 2.7–3.0 s per step), so one warm-up step timed set-up, not the step.
 */
const R50_WARMUP = 2;

async function trainer(
  preset: DetrPreset,
  k: number,
  workers: number,
  backend: string,
  native = false,
): Promise<Trainer> {
  const model = DetrModel.create(resolveDetr({ numClasses: k }, preset), new Rng(0));
  const saved = process.env[NATIVE_KERNELS_ENV];
  // Worker threads copy the environment when they start; native kernels are on unless the switch says '0'.
  process.env[NATIVE_KERNELS_ENV] = native ? '1' : '0';
  try {
    return workers > 1
      ? await ThreadTrainer.start(model, { optim: OPTIM, seed: 0, numWorkers: workers, backend })
      : new InProcessTrainer(model, { optim: OPTIM, seed: 0 });
  } finally {
    if (saved === undefined) delete process.env[NATIVE_KERNELS_ENV];
    else process.env[NATIVE_KERNELS_ENV] = saved;
  }
}

/** In-process trainers share this thread's kernels: switch them before each step. */
const inProcessSwitch = (t: Trainer, native: boolean): void => {
  if (t.numWorkers === 1) setNativeKernels(native);
};

/** Median step time over `reps` steps after `warmup`, and summed phase times. */
interface Timed {
  ms: number;
  phases: Record<string, number>;
}
/**
 * Median step time over `reps` steps after `warmup`, and summed phase times, for each trainer; with several,
 * their steps alternate (same batch for each) so that they see the same machine load.
 */
async function timeSteps(
  ts: Array<{ t: Trainer; native: boolean }>,
  make: () => TrainBatch,
  warmup: number,
  reps: number,
): Promise<Timed[]> {
  for (let i = 0; i < warmup; i++) {
    const b = make();
    for (const { t, native } of ts) {
      inProcessSwitch(t, native);
      await t.step(b, i, OPTIM);
    }
  }
  const times = ts.map((): number[] => []);
  const phases = ts.map((): Record<string, number> => ({ forward: 0, matching_loss: 0, backward: 0, optimizer: 0 }));
  for (let i = 0; i < reps; i++) {
    const b = make();
    for (const [j, { t, native }] of ts.entries()) {
      inProcessSwitch(t, native);
      const t0 = performance.now();
      const r: StepResult = await t.step(b, warmup + i, OPTIM);
      times[j].push(performance.now() - t0);
      phases[j].forward += r.timings.forwardMs - r.timings.matchMs;
      phases[j].matching_loss += r.timings.matchMs;
      phases[j].backward += r.timings.backwardMs;
      phases[j].optimizer += r.applyMs;
    }
  }
  return times.map((x, j) => {
    x.sort((a, b) => a - b);
    return { ms: x[Math.floor(x.length / 2)], phases: phases[j] };
  });
}

/**
 * PyTorch's median R50 batch-2 step at `size` (facebookresearch/detr, `threads` threads) from
 * bench/reference/detr_step_time.py, run by $DETRLAB_PYTHON (a Python with torch) with $DETR_SRC; else why not.
 */
function pytorchStepMs(threads: number, size: [number, number]): number | string {
  const py = process.env.DETRLAB_PYTHON;
  if (!py || !process.env.DETR_SRC)
    return 'not measured: set DETRLAB_PYTHON (a Python with torch) and DETR_SRC (facebookresearch/detr)';
  const r = spawnSync(
    py,
    [
      'bench/reference/detr_step_time.py',
      '--preset',
      'r50',
      '--batch',
      '2',
      '--size',
      String(size[0]),
      String(size[1]),
      '--threads',
      String(threads),
      '--warmup',
      String(R50_WARMUP),
    ],
    { encoding: 'utf8' },
  );
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const j = JSON.parse(last) as { step_ms?: number; error?: string };
    return j.step_ms ?? `not measured: ${j.error}`;
  } catch {
    return `not measured: ${(r.stderr ?? '').trim().split('\n').pop() ?? 'no output'}`;
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const compare = process.argv.includes('--native');
  const engine = await initEngine({});
  const workers = defaultWorkers(0, engine);
  const fig: BenchFigures = { backend: engine.backend, workers };
  if (compare) {
    if (engine.backend !== 'wasm') throw new Error(`--native needs the wasm backend, not ${engine.backend}`);
    const r = registerNativeKernels(); // for in-process trainers; worker threads register their own
    if (!r.ok) throw new Error(`--native: ${r.detail}`);
    setNativeKernels(false);
  }
  // Without --native: the engine's default (native kernels on wasm unless DETRLAB_NATIVE_KERNELS=0), unsuffixed.
  const variants = compare ? [false, true] : [engine.backend === 'wasm' && nativeKernelsRequested()];
  const sfx = (native: boolean): string => (compare && native ? '_native' : '');
  fig.native_kernels = compare ? 'both (…_native figures)' : variants[0];
  const rng = new Rng(1);
  const demoBatch = 8 * workers;
  fig.demo_batch = demoBatch;
  const demos = [];
  for (const native of variants) demos.push({ t: await trainer('demo', 10, workers, engine.backend, native), native });
  const ds = await timeSteps(demos, () => syntheticBatch(demoBatch, 128, 128, rng, 10), 2, 5);
  for (const d of demos) await d.t.dispose();
  for (const [j, native] of variants.entries()) {
    const d = ds[j];
    fig[`demo_step_ms${sfx(native)}`] = d.ms;
    fig[`demo_train_img_per_s${sfx(native)}`] = (demoBatch / d.ms) * 1000;
    const total = Object.values(d.phases).reduce((a, b) => a + b, 0);
    for (const [k, v] of Object.entries(d.phases)) fig[`demo_share_${k}_pct${sfx(native)}`] = (100 * v) / total;
  }
  if (compare) fig.demo_native_speedup = ds[0].ms / ds[1].ms;
  fig.demo_note =
    "synthetic 128×128 batches; data loading runs ahead on sharp threads (its wait is in the real run's log.jsonl: data_wait_ms)";
  fig.peak_rss_mb_after_demo = peakRssMb();
  if (!quick) {
    // One R50 trainer at a time (two would hold 4 wasm heaps of up to 4 GB).
    for (const native of variants) {
      const r50 = await trainer('detr-resnet-50', 10, Math.max(2, workers), engine.backend, native);
      try {
        const [s] = await timeSteps([{ t: r50, native }], () => syntheticBatch(2, 512, 512, rng, 10), R50_WARMUP, 3);
        fig[`detr_r50_512_b2_step_ms${sfx(native)}`] = s.ms;
        const t = Object.values(s.phases).reduce((a, b) => a + b, 0);
        for (const [k, v] of Object.entries(s.phases)) fig[`detr_r50_share_${k}_pct${sfx(native)}`] = (100 * v) / t;
      } catch (e) {
        fig[`detr_r50_512_b2_step_ms${sfx(native)}`] = null;
        fig[`detr_r50_error${sfx(native)}`] = (e as Error).message.split('\n')[0];
      }
      await r50.dispose();
    }
    // 800×1066, the original experiment's size (the fastest variant only: two steps of it take a while)
    const last = variants[variants.length - 1];
    const big = await trainer('detr-resnet-50', 10, Math.max(2, workers), engine.backend, last);
    try {
      const [s] = await timeSteps(
        [{ t: big, native: last }],
        () => syntheticBatch(2, 800, 1066, rng, 10),
        R50_WARMUP,
        1,
      );
      fig.detr_r50_800x1066_b2_step_ms = s.ms;
    } catch (e) {
      fig.detr_r50_800x1066_b2_step_ms = null;
      fig.detr_r50_800x1066_error = (e as Error).message.split('\n')[0];
    }
    await big.dispose();
    fig.peak_rss_mb = peakRssMb();
    // PyTorch's time for the same steps, in the same run (bench/reference/detr_step_time.py)
    const torch = pytorchStepMs(Math.max(2, workers), [512, 512]);
    if (typeof torch === 'number') {
      fig.pytorch_r50_512_b2_step_ms = torch;
      for (const native of variants) {
        const ms = fig[`detr_r50_512_b2_step_ms${sfx(native)}`];
        if (typeof ms === 'number') fig[`r50_ratio_vs_pytorch${sfx(native)}`] = ms / torch;
      }
    } else fig.pytorch_r50_512_b2_step_ms = torch;
    const torchBig = pytorchStepMs(Math.max(2, workers), [800, 1066]);
    fig.pytorch_r50_800x1066_b2_step_ms = torchBig;
    if (typeof torchBig === 'number' && typeof fig.detr_r50_800x1066_b2_step_ms === 'number')
      fig.r50_800x1066_ratio_vs_pytorch = fig.detr_r50_800x1066_b2_step_ms / torchBig;
  }
  fig.cpu_count = os.cpus().length;
  writeBench('train', fig);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
