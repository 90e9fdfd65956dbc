/**
 * The headline figures of a notebook run, read back from the files the stages wrote: detection COCO
 * metrics (`<run>/metrics/val_metrics.json`, notebook 04) and the classification ablation
 * (`<outputDir>/ablation.json`, notebook 09), plus each stage's wall time. The runner prints them at the
 * end of `npm start`; the report opens on them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Notebook, parametersCellIndex, sourceOf } from './nbformat.js';
import { projectRoot } from '../io/paths.js';

export interface StageTime {
  name: string;
  status: string;
  ms: number;
}
export interface DetectionHeadline {
  stage: string;
  run: string;
  map: number;
  map50: number;
  ar100: number;
  images?: number;
  split: string;
}
export interface AblationHeadline {
  stage: string;
  dir: string;
  real: number;
  realSynth: number;
  delta: number;
  deltaStd?: number;
  seeds: number;
}
export interface RunSummary {
  detection?: DetectionHeadline;
  ablation?: AblationHeadline;
  stages: StageTime[];
}

interface SummaryStage {
  name: string;
  status: string;
  ms: number;
  nb?: Notebook;
}

/** A string parameter of an executed notebook: the runner's injected value, else the parameters cell's literal. */
export function stageParameter(nb: Notebook, key: string): string | undefined {
  const injected = (nb.metadata?.detrlab as { parameters?: Record<string, unknown> } | undefined)?.parameters?.[key];
  if (typeof injected === 'string') return injected;
  const i = parametersCellIndex(nb);
  if (i < 0) return undefined;
  const m = new RegExp(`\\b${key}\\s*:\\s*(['"\`])([^'"\`]*)\\1`).exec(sourceOf(nb.cells[i]));
  return m?.[2];
}

const readJson = (f: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};
const resolve = (p: string) => (path.isAbsolute(p) ? p : path.join(projectRoot(), p));
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function detection(s: SummaryStage): DetectionHeadline | undefined {
  const run = s.nb && stageParameter(s.nb, 'run');
  if (!run) return undefined;
  const split = stageParameter(s.nb!, 'split') ?? 'val';
  const m = readJson(path.join(resolve(run), 'metrics', `${split}_metrics.json`));
  const by = m?.statsByName as Record<string, unknown> | undefined;
  if (!by || !finite(by.map) || !finite(by.map_50) || !finite(by.mar_100)) return undefined;
  const images = (m!.inference as { images?: unknown } | undefined)?.images;
  return {
    stage: s.name,
    run,
    split,
    map: by.map,
    map50: by.map_50,
    ar100: by.mar_100,
    images: finite(images) ? images : undefined,
  };
}

function ablation(s: SummaryStage): AblationHeadline | undefined {
  const dir = s.nb && stageParameter(s.nb, 'outputDir');
  if (!dir) return undefined;
  const a = readJson(path.join(resolve(dir), 'ablation.json')) as
    | {
        real?: { best_val_acc?: unknown };
        real_synth?: { best_val_acc?: unknown };
        delta?: unknown;
        delta_std?: unknown;
        seeds?: unknown[];
      }
    | undefined;
  const real = a?.real?.best_val_acc,
    synth = a?.real_synth?.best_val_acc;
  if (!a || !finite(real) || !finite(synth) || !finite(a.delta)) return undefined;
  return {
    stage: s.name,
    dir,
    real,
    realSynth: synth,
    delta: a.delta,
    deltaStd: finite(a.delta_std) ? a.delta_std : undefined,
    seeds: a.seeds?.length ?? 1,
  };
}

/** Figures of the stages that ran or were cached (a stage that failed or did not run contributes nothing). */
export function runSummary(stages: SummaryStage[]): RunSummary {
  const done = stages.filter((s) => s.status === 'ok' || s.status === 'cached' || s.status === 'earlier run');
  const evalStage = done.find((s) => /^04_/.test(s.name));
  const ablStage = done.find((s) => /^09_/.test(s.name));
  return {
    detection: evalStage && detection(evalStage),
    ablation: ablStage && ablation(ablStage),
    stages: stages.map((s) => ({ name: s.name.replace(/\.ipynb$/, ''), status: s.status, ms: s.ms })),
  };
}

const f3 = (v: number) => v.toFixed(3);
const signed = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(3);
const dur = (ms: number) =>
  ms < 60_000
    ? `${(ms / 1000).toFixed(0)}s`
    : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;

/** The console's closing lines. */
export function summaryLines(s: RunSummary, reportPath: string): string[] {
  const lines = ['', 'results'];
  const d = s.detection,
    a = s.ablation;
  lines.push(
    d
      ? `  detection  mAP ${f3(d.map)}  mAP50 ${f3(d.map50)}  AR@100 ${f3(d.ar100)}  (${d.split}${d.images ? `, ${d.images} images` : ''}; ${d.run})`
      : '  detection  no metrics (04_eval did not run to the end)',
  );
  lines.push(
    a
      ? `  ablation   best_val_acc real ${f3(a.real)} → real+synth ${f3(a.realSynth)}, Δ ${signed(a.delta)}${a.seeds > 1 && a.deltaStd !== undefined ? ` ± ${f3(a.deltaStd)} (${a.seeds} seeds)` : ''}  (${a.dir})`
      : '  ablation   no result (09_ablation did not run to the end)',
  );
  const ran = s.stages.filter((x) => x.status !== 'not run' && x.status !== 'earlier run');
  const total = ran.reduce((acc, x) => acc + (x.status === 'cached' ? 0 : x.ms), 0);
  const times = ran.map(
    (x) =>
      `${x.name.slice(0, 2)} ${x.status === 'cached' ? 'cached' : dur(x.ms)}${x.status === 'failed' ? ' FAILED' : ''}`,
  );
  lines.push(`  stages     ${times.join(' · ')}  (total ${dur(total)})`);
  lines.push(`report: ${reportPath}`);
  return lines;
}
