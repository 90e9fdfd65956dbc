/**
 * The ablation's plan: which runs, with which parameters, in which folders. For every seed, `real` and
 * `real_synth`, whose specs differ only in `synth` (and the folder). One more run, `judge`, when the real crops
 * are cut (`rarePerClass` or `maxPerClass` > 0): a real-only classifier with every real train crop (first
 * seed), which judges the synthetic images (synth_quality.ts); a low-data classifier would under-rate them.
 */
import * as path from 'node:path';
import { UserError } from '../params/user_error.js';
import type { AblationParams, ClassifierTrainParams } from './classifier_params.js';
import type { RunSpec } from './train_run.js';

export const ABLATION_RUNS = ['real', 'real_synth'] as const;
export type AblationRunName = (typeof ABLATION_RUNS)[number];
export const RUN_LABELS: Record<AblationRunName, string> = { real: 'real', real_synth: 'real + synth' };

export interface AblationRunRef {
  name: AblationRunName;
  seed: number;
  dir: string;
}

/** The folder of the classifier that judges the synthetic images (a run of its own only when rarePerClass > 0). */
export const JUDGE_RUN = 'judge';
export function judgeDir(p: Pick<AblationParams, 'outputDir' | 'seeds' | 'rarePerClass' | 'maxPerClass'>): string {
  return p.rarePerClass > 0 || p.maxPerClass > 0
    ? path.join(p.outputDir, JUDGE_RUN)
    : ablationRunRefs(p.outputDir, p.seeds)[0].dir;
}

/** The run folders of an ablation with these seeds. */
export function ablationRunRefs(outputDir: string, seeds: readonly number[]): AblationRunRef[] {
  return seeds.flatMap((seed) =>
    ABLATION_RUNS.map((name) => ({
      name,
      seed,
      dir: seeds.length === 1 ? path.join(outputDir, name) : path.join(outputDir, name, `seed_${seed}`),
    })),
  );
}

function checkSeeds(seeds: number[]): void {
  if (!seeds.length) throw new UserError('--seeds must list at least one seed');
  const bad = seeds.find((s) => !Number.isInteger(s) || s < 0);
  if (bad !== undefined) throw new UserError(`--seeds must be non-negative integers, got ${bad}`);
  if (new Set(seeds).size !== seeds.length) throw new UserError(`--seeds lists a seed twice: ${seeds.join(',')}`);
}

/** One RunSpec per (seed, run); the specs differ only in `synth`, `seed` and the folder. */
export function planAblation(p: AblationParams): RunSpec[] {
  checkSeeds(p.seeds);
  const { seeds: _s, workers: _w, synth, outputDir, gridPerClass: _g, ...train } = p;
  const judgeIsRun = p.rarePerClass === 0 && p.maxPerClass === 0; // uncut: the first seed's real run is the judge
  const specs: RunSpec[] = ablationRunRefs(outputDir, p.seeds).map((r) => {
    const params: ClassifierTrainParams = { ...train, seed: r.seed };
    return {
      name: r.name,
      dir: r.dir,
      params,
      synth: r.name === 'real_synth' ? synth : undefined,
      saveWeights: judgeIsRun && r.name === 'real' && r.seed === p.seeds[0],
    };
  });
  if (!judgeIsRun)
    specs.push({
      name: JUDGE_RUN,
      dir: judgeDir(p),
      params: { ...train, seed: p.seeds[0], rarePerClass: 0, maxPerClass: 0 },
      saveWeights: true,
    });
  return specs;
}
