/**
 * Stage 09: the real vs real + synth ablation (`detrlab ablation`, notebook 09). For every seed, two runs
 * that differ only in the training data: `real` (the real train crops) and `real_synth` (the same crops
 * plus the synthetic images of the rare classes). Same seed, split, schedule, init, augmentation per real
 * sample, and validation set (real val crops only); the real samples reach the model in the same order
 * (sample_order.ts) and each run records a digest of that order, which the report compares.
 *
 *   <out>/real/, <out>/real_synth/                 one seed: config.json, log.jsonl, metrics.json
 *   <out>/real/seed_<s>/, <out>/real_synth/seed_<s>/  several seeds
 *   <out>/judge/                                   with --rare-per-class: the real-only judge of the synthetic images
 *   <out>/ablation.json, ablation.md, *.png        written from those files (ablation_report.ts)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initEngine } from '../engine/backend.js';
import { UserError } from '../params/user_error.js';
import type { StageOverrides } from '../params/overrides.js';
import { progress } from '../viz/progress.js';
import { AblationParams, resolveAblationParams } from './classifier_params.js';
import { readCropsData, readSynthData } from './crop_samples.js';
import { locateBackboneWeights } from './backbone_weights.js';
import { trainRunsInWorkers } from './run_workers.js';
import { runSteps, trainRun } from './train_run.js';
import type { AblationJson } from './ablation_json.js';
import { writeAblationReport } from './ablation_report.js';
import { ABLATION_RUNS, JUDGE_RUN, ablationRunRefs, judgeDir, planAblation } from './ablation_plan.js';
import { SYNTH_QUALITY_FILE, synthQuality } from '../synth/synth_quality.js';

/**
 * Reads the inputs once before any training, so a bad folder fails in seconds, not after the first run,
 * and fetches hub weights here, once, rather than in every worker at the same time.
 */
async function checkInputs(p: AblationParams): Promise<{ trainReal: number; judgeReal: number; synthImages: number }> {
  const crops = readCropsData(p.crops, { maxPerClass: p.maxPerClass, rarePerClass: p.rarePerClass, seed: p.seeds[0] });
  const synth = readSynthData(p.synth, crops);
  if (synth.samples.length === 0) {
    throw new UserError(
      `${path.join(p.synth, 'metadata.jsonl')} holds no images of the rare classes (${crops.rare.join(', ')}); the two runs would be identical`,
    );
  }
  if (p.backboneWeights !== 'none') await locateBackboneWeights(p.backboneWeights);
  const judgeReal =
    p.rarePerClass > 0 ? readCropsData(p.crops, { maxPerClass: 0, rarePerClass: 0, seed: p.seeds[0] }).train.length : 0;
  return { trainReal: crops.train.length, judgeReal, synthImages: synth.samples.length };
}

const RUN_FILES = /^(config\.json|log\.jsonl|metrics\.json|model\.safetensors|seed_\d+|\..*\.tmp)$/;

/** Removes an earlier ablation's run folder; refuses a folder holding anything a run does not write. */
function clearRunFolder(dir: string): void {
  if (!fs.existsSync(dir)) return;
  const foreign = fs.readdirSync(dir).filter((f) => !RUN_FILES.test(f));
  if (foreign.length)
    throw new UserError(
      `${dir} holds files an ablation run does not write (${foreign.slice(0, 3).join(', ')}); choose another --output-dir`,
    );
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Runs at once: worker threads pay only on the single-threaded CPU backends (wasm, cpu: one core per
 * thread). A GPU, or libtensorflow's own thread pool, is already shared by one run, so those go one by one.
 */
export async function concurrentRuns(p: Pick<AblationParams, 'workers' | 'backend'>, runs: number): Promise<number> {
  if (p.workers <= 1 || runs <= 1) return 1;
  const engine = await initEngine({ backend: p.backend, log: null });
  return engine.backend === 'wasm' || engine.backend === 'cpu' ? Math.min(p.workers, runs) : 1;
}

export async function runAblation(overrides: StageOverrides<AblationParams> = {}): Promise<AblationJson> {
  const p = resolveAblationParams(overrides);
  const specs = planAblation(p);
  const sizes = await checkInputs(p);
  for (const name of [...ABLATION_RUNS, JUDGE_RUN]) clearRunFolder(path.join(p.outputDir, name)); // no stale seeds from an earlier ablation
  const total = specs.reduce(
    (a, s) =>
      a +
      runSteps(
        (s.name === JUDGE_RUN ? sizes.judgeReal : sizes.trainReal) + (s.synth ? sizes.synthImages : 0),
        p.batchSize,
        p.epochs,
      ),
    0,
  );
  const atOnce = await concurrentRuns(p, specs.length);
  const bar = progress({ total, label: `ablation (${specs.length} runs, ${atOnce} at a time)`, unit: 'step' });
  const hooks = { onSteps: (n: number, info: Record<string, number | string>) => bar.tick(n, info) };
  if (atOnce > 1) {
    await trainRunsInWorkers(specs, atOnce, hooks);
  } else {
    for (const s of specs) await trainRun(s, hooks);
  }
  bar.done();
  // recognisability etc. of the synthetic images, judged by a real-only classifier with every real crop
  await synthQuality({
    synth: p.synth,
    crops: p.crops,
    classifier: path.join(judgeDir(p), 'model.safetensors'),
    imageSize: p.imageSize,
    out: path.join(p.outputDir, SYNTH_QUALITY_FILE),
  });
  return writeAblationReport(p, ablationRunRefs(p.outputDir, p.seeds));
}
