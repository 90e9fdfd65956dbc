/**
 * Training throughput (`npm run bench -- train` → runs/bench/train.json):
 *  - the demo variant through the real trainer (data-parallel workers, AdamW, clipping) on demo-like batches:
 *    `demo_train_img_per_s`, and the share of time in data loading, forward, matching + loss, backward and
 *    the optimizer (from the profiler trace's phase totals);
 *  - one full DETR-R50 training step — forward, loss, backward, clip, AdamW — at batch 2, 512×512
 *    (`detr_r50_512_b2_step_ms`), split over the workers (one image each: wasm's 4 GB heap per instance).
 * PyTorch 1.13's CPU time for the same R50 step on a 2-core VM is 2.9–4.6 s (facebookresearch/detr, 2 threads; the
 * spread is large and depends on the allocator).
 *
 *   npm run bench -- train [--quick]        --quick: the demo part only
 */
import * as os from 'node:os';
import { initEngine } from '../lib/engine/backend.js';
import { defaultWorkers } from '../lib/engine/workers.js';
import { Rng } from '../lib/engine/rng.js';
import { DetrModel } from '../lib/detr/model.js';
import { resolveDetr, DetrPreset } from '../lib/detr/config.js';
import { ThreadTrainer, InProcessTrainer, Trainer, StepResult } from '../lib/train/trainer.js';
import { TrainBatch } from '../lib/train/batch.js';
import { writeBench, peakRssMb, BenchFigures } from './bench_util.js';

const OPTIM = { lr: 1e-4, lrBackbone: 1e-5, weightDecay: 1e-4, clipMaxNorm: 0.1 };

/** A batch of random images with 1–4 boxes each (matching and loss run as in training). */
function syntheticBatch(b: number, h: number, w: number, rng: Rng, k: number): TrainBatch {
  const targets = Array.from({ length: b }, () => {
    const n = rng.int(1, 4);
    return {
      labels: Array.from({ length: n }, () => rng.int(0, k - 1)),
      boxesCxcywh: Array.from(
        { length: n },
        () =>
          [rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.05, 0.4), rng.uniform(0.05, 0.4)] as [
            number,
            number,
            number,
            number,
          ],
      ),
    };
  });
  return {
    pixels: rng.normals(b * h * w * 3),
    mask: new Uint8Array(b * h * w).fill(1),
    shape: [b, h, w],
    targets,
    imageIds: Array.from({ length: b }, (_, i) => i + 1),
  };
}

async function trainer(preset: DetrPreset, k: number, workers: number, backend: string): Promise<Trainer> {
  const model = DetrModel.create(resolveDetr({ numClasses: k }, preset), new Rng(0));
  return workers > 1
    ? ThreadTrainer.start(model, { optim: OPTIM, seed: 0, numWorkers: workers, backend })
    : new InProcessTrainer(model, { optim: OPTIM, seed: 0 });
}

/** Median step time over `reps` steps after `warmup`, and summed phase times. */
async function timeSteps(
  t: Trainer,
  make: () => TrainBatch,
  warmup: number,
  reps: number,
): Promise<{ ms: number; phases: Record<string, number> }> {
  for (let i = 0; i < warmup; i++) await t.step(make(), i, OPTIM);
  const times: number[] = [];
  const phases: Record<string, number> = { forward: 0, matching_loss: 0, backward: 0, optimizer: 0 };
  for (let i = 0; i < reps; i++) {
    const b = make();
    const t0 = performance.now();
    const r: StepResult = await t.step(b, warmup + i, OPTIM);
    times.push(performance.now() - t0);
    phases.forward += r.timings.forwardMs - r.timings.matchMs;
    phases.matching_loss += r.timings.matchMs;
    phases.backward += r.timings.backwardMs;
    phases.optimizer += r.applyMs;
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], phases };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const engine = await initEngine({});
  const workers = defaultWorkers(0, engine);
  const fig: BenchFigures = { backend: engine.backend, workers };
  const rng = new Rng(1);
  const demoBatch = 8 * workers;
  const demo = await trainer('demo', 10, workers, engine.backend);
  const d = await timeSteps(demo, () => syntheticBatch(demoBatch, 128, 128, rng, 10), 2, 5);
  await demo.dispose();
  fig.demo_batch = demoBatch;
  fig.demo_step_ms = d.ms;
  fig.demo_train_img_per_s = (demoBatch / d.ms) * 1000;
  const total = Object.values(d.phases).reduce((a, b) => a + b, 0);
  for (const [k, v] of Object.entries(d.phases)) fig[`demo_share_${k}_pct`] = (100 * v) / total;
  fig.demo_note =
    "synthetic 128×128 batches; data loading runs ahead on sharp threads (its wait is in the real run's log.jsonl: data_wait_ms)";
  fig.peak_rss_mb_after_demo = peakRssMb();
  if (!quick) {
    const r50 = await trainer('detr-resnet-50', 10, Math.max(2, workers), engine.backend);
    try {
      const s = await timeSteps(r50, () => syntheticBatch(2, 512, 512, rng, 10), 1, 2);
      fig.detr_r50_512_b2_step_ms = s.ms;
      const t = Object.values(s.phases).reduce((a, b) => a + b, 0);
      for (const [k, v] of Object.entries(s.phases)) fig[`detr_r50_share_${k}_pct`] = (100 * v) / t;
      fig.pytorch_cpu_r50_512_b2_step_ms = '2900–4600 (facebookresearch/detr, PyTorch 1.13, 2 threads)';
      fig.ratio_vs_pytorch_best = s.ms / 2900;
    } catch (e) {
      fig.detr_r50_512_b2_step_ms = null;
      fig.detr_r50_error = (e as Error).message.split('\n')[0];
    }
    await r50.dispose();
    fig.peak_rss_mb = peakRssMb();
  }
  fig.cpu_count = os.cpus().length;
  writeBench('train', fig);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
