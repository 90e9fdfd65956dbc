/**
 * `npm run bench -- synth [--model-dir DIR] [--size 512] [--steps 20] [--scheduler ddim] [--threads 0]`
 * Seconds per denoising step (ControlNet + UNet on the CFG batch + scheduler) and the pipeline's overhead
 * beyond the bare `session.run` calls inside the loop (host tensor copies, CFG, scheduler arithmetic,
 * dtype conversion), on the tiny models at the demo size and at SD's 512 px, and on a real model folder
 * when one is given. Writes runs/bench/synth.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeBench, BenchFigures, peakRssMb } from './bench_util.js';
import { ControlNetPipeline } from '../lib/synth/pipeline.js';
import { resolveModelFolder } from '../lib/synth/model_folder.js';
import { writeTinyFolder } from '../lib/synth/tiny/tiny_folder.js';
import { SchedulerName } from '../lib/synth/schedulers/scheduler.js';

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : d;
};

interface Run {
  sPerStep: number;
  medianSPerStep: number;
  overheadPct: number;
  medianOverheadPct: number;
  imageS: number;
  sessionMsPerStep: number;
  provider: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function measure(
  dir: string,
  size: number,
  steps: number,
  scheduler: SchedulerName,
  threads: number,
): Promise<Run> {
  const pipe = await ControlNetPipeline.load(resolveModelFolder(dir), undefined, threads);
  const control = Float32Array.from({ length: 3 * size * size }, (_, k) => (k % 97 === 0 ? 1 : 0));
  const gen = (seed: number, n: number) =>
    pipe.generate({
      prompt: 'a photo of a bus',
      negativePrompt: 'blurry',
      control,
      width: size,
      height: size,
      steps: n,
      guidance: 7.5,
      scheduler,
      conditioningScale: 1,
      seed,
    });
  await gen(0, 2); // warm-up: allocations, text embeddings
  const t0 = performance.now();
  const r = await gen(1, steps);
  const imageS = (performance.now() - t0) / 1000;
  await pipe.dispose();
  const loopMs = r.stepMs.reduce((a, b) => a + b, 0),
    sessMs = r.stepSessionMs.reduce((a, b) => a + b, 0);
  const hostMs = r.stepMs.map((v, i) => v - r.stepSessionMs[i]); // per step, outside session.run
  return {
    sPerStep: loopMs / steps / 1000,
    medianSPerStep: median(r.stepMs) / 1000,
    overheadPct: (100 * (loopMs - sessMs)) / loopMs,
    medianOverheadPct: (100 * median(hostMs)) / median(r.stepMs),
    imageS,
    sessionMsPerStep: sessMs / steps,
    provider: pipe.provider,
  };
}

const put = (f: BenchFigures, prefix: string, r: Run) => {
  f[`${prefix}_s_per_step`] = r.sPerStep;
  f[`${prefix}_median_s_per_step`] = r.medianSPerStep;
  f[`${prefix}_session_ms_per_step`] = r.sessionMsPerStep;
  f[`${prefix}_overhead_pct`] = r.overheadPct;
  f[`${prefix}_median_overhead_pct`] = r.medianOverheadPct;
  f[`${prefix}_image_s`] = r.imageS;
  f[`${prefix}_provider`] = r.provider;
};

async function main(): Promise<void> {
  const steps = Number(arg('steps', '20')),
    scheduler = arg('scheduler', 'ddim') as SchedulerName,
    threads = Number(arg('threads', '0'));
  const tiny = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-bench-tiny-'));
  writeTinyFolder(tiny);
  const figures: BenchFigures = { steps, scheduler, threads, backend: 'onnxruntime-node' };
  for (const size of [128, 512]) put(figures, `tiny_${size}px`, await measure(tiny, size, steps, scheduler, threads));
  const real = arg('model-dir', '');
  if (real) {
    const size = Number(arg('size', '512'));
    figures.real_model_dir = path.resolve(real);
    figures.real_size_px = size;
    put(figures, 'real', await measure(real, size, steps, scheduler, threads));
  }
  figures.peak_rss_mb = peakRssMb();
  figures.note =
    'overhead = denoising-loop time outside the ControlNet/UNet session.run calls, as % of the loop (total and per-step median); shared machine, figures are noisy';
  writeBench('synth', figures);
  fs.rmSync(tiny, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
