/**
 * Stage 09: the real vs real + synth ablation (`detrlab ablation`, notebook 09). For every seed, two runs
 * that differ only in the training data: `real` (the real train crops) and `real_synth` (the same crops
 * plus the synthetic images of the rare classes). Same seed, split, schedule, init, augmentation per real
 * sample, and validation set (real val crops only); the real samples reach the model in the same order
 * (sample_order.ts) and each run records a digest of that order, which the report compares.
 *
 *   <out>/real/, <out>/real_synth/                 one seed: config.json, log.jsonl, metrics.json
 *   <out>/real/seed_<s>/, <out>/real_synth/seed_<s>/  several seeds
 *   <out>/ablation.json, ablation.md, *.png        written from those files (ablation_report.ts)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../params/user_error.js';
import { progress } from '../viz/progress.js';
import { AblationParams, resolveAblationParams } from './classifier_params.js';
import { readCropsData, readSynthData } from './crop_samples.js';
import { trainRunsInWorkers } from './run_workers.js';
import { runSteps, trainRun } from './train_run.js';
import { AblationJson, writeAblationReport } from './ablation_report.js';
import { ABLATION_RUNS, ablationRunRefs, planAblation } from './ablation_plan.js';

/** Reads the inputs once before any training, so a bad folder fails in seconds, not after the first run. */
function checkInputs(p: AblationParams): { trainReal: number; synthImages: number } {
  const crops = readCropsData(p.crops, { maxPerClass: p.maxPerClass, seed: p.seeds[0] });
  const synth = readSynthData(p.synth, crops);
  if (synth.samples.length === 0) {
    throw new UserError(`${path.join(p.synth, 'metadata.jsonl')} holds no images of the rare classes (${crops.rare.join(', ')}); the two runs would be identical`);
  }
  return { trainReal: crops.train.length, synthImages: synth.samples.length };
}

export async function runAblation(overrides: Partial<AblationParams> = {}): Promise<AblationJson> {
  const p = resolveAblationParams(overrides);
  const specs = planAblation(p);
  const sizes = checkInputs(p);
  for (const name of ABLATION_RUNS) fs.rmSync(path.join(p.outputDir, name), { recursive: true, force: true });   // no stale seeds
  const total = specs.reduce((a, s) => a + runSteps(sizes.trainReal + (s.synth ? sizes.synthImages : 0), p.batchSize, p.epochs), 0);
  const bar = progress({ total, label: `ablation (${specs.length} runs, ${Math.min(p.workers, specs.length)} at a time)`, unit: 'step' });
  const hooks = { onSteps: (n: number, info: Record<string, number | string>) => bar.tick(n, info) };
  if (p.workers > 1 && specs.length > 1) {
    await trainRunsInWorkers(specs, p.workers, hooks);
  } else {
    for (const s of specs) await trainRun(s, hooks);
  }
  bar.done();
  return writeAblationReport(p, ablationRunRefs(p.outputDir, p.seeds));
}
