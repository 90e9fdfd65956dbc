/**
 * The ablation's results, computed from the run folders alone (metrics.json, log.jsonl, config.json), never
 * from live objects: Δ = real+synth − real of best_val_acc (mean over seeds; per seed too), per-class and
 * rare-class accuracy at each run's best epoch, and a check, from the recorded digests, that both runs of a
 * seed saw the same real samples in the same order.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJson, writeJsonAtomic } from '../io/atomic.js';
import { readLog } from '../io/run_dir.js';
import { UserError } from '../params/user_error.js';
import { meanStd } from './class_metrics.js';
import { meanCi95 } from './interval.js';
import { SYNTH_QUALITY_FILE, SynthQuality } from '../synth/synth_quality.js';
import { type AblationJson, type RunSummary, readRunMetrics } from './ablation_json.js';
import type { AblationParams } from './classifier_params.js';
import { trainedModelNote, type SynthProvenance } from './crop_samples.js';
import type { RunMetrics } from './train_run.js';
import type { AblationRunName, AblationRunRef } from './ablation_plan.js';
import { writeAblationMarkdown } from './ablation_tables.js';
import { writeAblationCharts } from './ablation_charts.js';

const mean = (xs: number[]) => meanStd(xs).mean;
const meanOrNull = (xs: Array<number | null>) => (xs.some((x) => x === null) ? null : mean(xs as number[]));

/** Real-sample order digests per epoch, from a run's log.jsonl. */
export const realOrderDigests = (dir: string): string[] =>
  readLog(path.join(dir, 'log.jsonl'))
    .filter((r) => r.split === 'train_epoch')
    .map((r) => String(r.real_order_sha1));

/** Throws when the two runs' recorded real data or training parameters differ. */
export function checkSameRealData(realDir: string, synthDir: string): void {
  const a = realOrderDigests(realDir),
    b = realOrderDigests(synthDir);
  if (a.length === 0 || a.join() !== b.join())
    throw new Error(
      `ablation: ${realDir} and ${synthDir} did not see the same real samples in the same order (digests ${a.join(',')} vs ${b.join(',')})`,
    );
  const pa = readJson<{ params: unknown }>(path.join(realDir, 'config.json')).params,
    pb = readJson<{ params: unknown }>(path.join(synthDir, 'config.json')).params;
  if (JSON.stringify(pa) !== JSON.stringify(pb))
    throw new Error(`ablation: ${realDir} and ${synthDir} were trained with different parameters`);
}

function summariseRun(runs: Array<{ ref: AblationRunRef; m: RunMetrics }>): RunSummary {
  const per_seed = runs.map(({ ref, m }) => ({
    seed: ref.seed,
    dir: ref.dir,
    best_val_acc: m.best.accuracy,
    best_epoch: m.best.epoch,
    balanced_acc: m.best.balancedAccuracy,
    rare_acc: m.best.rareAccuracy,
  }));
  const classes = runs[0].m.classes;
  const acc = meanStd(per_seed.map((s) => s.best_val_acc));
  return {
    best_val_acc: acc.mean,
    best_val_acc_std: acc.std,
    best_epoch: per_seed[0].best_epoch,
    balanced_acc: mean(per_seed.map((s) => s.balanced_acc)),
    rare_acc: meanOrNull(per_seed.map((s) => s.rare_acc)),
    per_class: Object.fromEntries(classes.map((c) => [c, meanOrNull(runs.map(({ m }) => m.best.perClass[c]))])),
    per_seed,
  };
}

const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : b - a);

function synthNote(prov: SynthProvenance[]): string {
  const tiny = prov.filter((x) => x.tiny).reduce((a, x) => a + x.images, 0),
    all = prov.reduce((a, x) => a + x.images, 0);
  if (tiny === all)
    return `All ${all} synthetic images came from detrlab's tiny random-weight TEST models (not Stable Diffusion): they are noise-like pictures, so this Δ says nothing about what SD 1.5 + ControlNet images would do.`;
  if (tiny > 0)
    return `${tiny} of ${all} synthetic images came from detrlab's tiny random-weight TEST models (not Stable Diffusion).`;
  const named = (x: SynthProvenance) => {
    const n = trainedModelNote(x.models);
    return `${x.models}${n ? ` (${n})` : ''}: ${x.images} images`;
  };
  return `Synthetic images from ${prov.map(named).join(', ')}.`;
}

/** Everything ablation.json holds, from the run folders. */
export function summariseAblation(
  p: Pick<AblationParams, 'synth' | 'epochs' | 'seeds'>,
  refs: AblationRunRef[],
): AblationJson {
  const runs = refs.map((ref) => ({ ref, m: readRunMetrics(ref.dir) }));
  const of = (name: AblationRunName) => runs.filter((r) => r.ref.name === name).sort((a, b) => a.ref.seed - b.ref.seed);
  const real = of('real'),
    synth = of('real_synth');
  real.forEach((r, i) => checkSameRealData(r.ref.dir, synth[i].ref.dir));
  const sr = summariseRun(real),
    ss = summariseRun(synth);
  const deltas = sr.per_seed.map((s, i) => ss.per_seed[i].best_val_acc - s.best_val_acc);
  const rareDeltas = sr.per_seed.map((s, i) => diff(s.rare_acc, ss.per_seed[i].rare_acc));
  const m0 = synth[0].m,
    cfg = readJson<{ synthProvenance: SynthProvenance[] }>(path.join(synth[0].ref.dir, 'config.json'));
  return {
    real: sr,
    real_synth: ss,
    delta: ss.best_val_acc - sr.best_val_acc,
    delta_std: meanStd(deltas).std,
    delta_per_seed: deltas,
    delta_balanced_acc: ss.balanced_acc - sr.balanced_acc,
    delta_rare_acc: diff(sr.rare_acc, ss.rare_acc),
    delta_rare_per_seed: rareDeltas,
    delta_ci95: meanCi95(deltas),
    delta_rare_ci95: rareDeltas.some((x) => x === null) ? null : meanCi95(rareDeltas as number[]),
    delta_per_class: Object.fromEntries(m0.classes.map((c) => [c, diff(sr.per_class[c], ss.per_class[c])])),
    classes: m0.classes,
    rare: m0.rare,
    rare_classes: m0.rare.map((c) => ({
      class: c,
      train_crops_real: m0.counts.train_real[c] ?? 0,
      synth_images: m0.counts.train_synth[c] ?? 0,
    })),
    epochs: p.epochs,
    seeds: [...p.seeds],
    synth: {
      dir: p.synth,
      images_used: Object.values(m0.counts.train_synth).reduce((a, b) => a + b, 0),
      provenance: cfg.synthProvenance,
      tiny_models: cfg.synthProvenance.some((x) => x.tiny),
      note: synthNote(cfg.synthProvenance),
    },
    real_data_identical: true,
    backbone: m0.backbone,
    backend: m0.backend,
    runs: runs.map(({ ref, m }) => ({ ...ref, seconds: m.seconds, train_img_per_s: m.train_img_per_s })),
  };
}

/** Writes ablation.json, ablation.md and the charts under the output folder; returns the JSON. */
export async function writeAblationReport(p: AblationParams, refs: AblationRunRef[]): Promise<AblationJson> {
  const json = summariseAblation(p, refs);
  const qf = path.join(p.outputDir, SYNTH_QUALITY_FILE);
  if (fs.existsSync(qf)) json.synth_quality = readJson<SynthQuality>(qf);
  writeJsonAtomic(path.join(p.outputDir, 'ablation.json'), json);
  const charts = await writeAblationCharts(p.outputDir, json, p.crops, p.gridPerClass);
  writeAblationMarkdown(p.outputDir, json, charts);
  return json;
}

/** ablation.json of a finished ablation. */
export function readAblation(outputDir: string): AblationJson {
  const f = path.join(outputDir, 'ablation.json');
  if (!fs.existsSync(f)) throw new UserError(`${f} does not exist; run \`detrlab ablation\` first`);
  return readJson<AblationJson>(f);
}
