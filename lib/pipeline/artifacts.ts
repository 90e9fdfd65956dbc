/**
 * Checks that a pipeline run left every artifact docs/guide.md "Artifacts" names, and that each is well-formed (parses,
 * decodes, has the fields other tools rely on) — not merely that a file exists. CI runs it after the
 * reduced demo pipeline (`detrlab check-artifacts`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { readSafetensors } from '../io/safetensors.js';
import { BACKBONE_PREFIX } from '../detr/backbone.js';
import { eventFiles, readEventFile } from '../train/tensorboard/index.js';
import { STAT_NAMES } from '../cocoeval/summarize.js';
import { OUTCOMES } from '../analysis/error_analysis.js';
import { readJsonFile, readJsonLines } from '../io/json_file.js';

export interface ArtifactCheck {
  artifact: string;
  ok: boolean;
  detail: string;
}
export interface ArtifactRoots {
  run: string;
  report: string;
  crops: string;
  synth: string;
  ablation: string;
}

type Check = () => Promise<string> | string;

const json = (f: string): Record<string, unknown> => readJsonFile(f);
const need = (cond: unknown, why: string): void => {
  if (!cond) throw new Error(why);
};

async function png(f: string): Promise<string> {
  const m = await sharp(f).metadata();
  need(m.format === 'png' && (m.width ?? 0) > 0 && (m.height ?? 0) > 0, `not a PNG image`);
  return `${m.width}×${m.height} PNG`;
}

function checkpoint(dir: string): string {
  const st = readSafetensors(path.join(dir, 'model.safetensors'));
  need(
    st.tensors.has('class_labels_classifier.weight') &&
      [...st.tensors.keys()].some((k) => k.startsWith(BACKBONE_PREFIX)),
    'HF DetrForObjectDetection tensor names missing',
  );
  const cfg = json(path.join(dir, 'config.json'));
  need(cfg.model_type === 'detr' && typeof cfg.id2label === 'object', 'config.json is not a transformers DETR config');
  readSafetensors(path.join(dir, 'optimizer.safetensors'));
  const state = json(path.join(dir, 'trainer_state.json'));
  need(Number.isInteger(state.step), 'trainer_state.json has no step');
  return `${st.tensors.size} tensors, ${(cfg.id2label as object) && Object.keys(cfg.id2label as object).length} labels, step ${state.step}`;
}

function tensorboard(dir: string): string {
  const files = eventFiles(dir);
  need(files.length > 0, 'no tfevents file');
  const tags = new Set(
    files.flatMap((f) => readEventFile(f).events.flatMap((e) => (e.summary?.value ?? []).map((v) => v.tag))),
  );
  const want = ['train/loss_ce', 'train/loss_bbox', 'train/loss_giou', 'train/loss_total', 'train/lr', 'val/mAP'];
  const missing = want.filter((t) => !tags.has(t));
  need(missing.length === 0, `missing tags ${missing.join(', ')}`);
  return `${files.length} event file(s), ${tags.size} tags`;
}

function trace(tbDir: string): string {
  const root = path.join(tbDir, 'plugins', 'profile');
  const files = fs.existsSync(root)
    ? fs.readdirSync(root).flatMap((d) =>
        fs
          .readdirSync(path.join(root, d))
          .filter((f) => f.endsWith('.trace.json'))
          .map((f) => path.join(root, d, f)),
      )
    : [];
  need(files.length > 0, 'no *.trace.json under tb/plugins/profile');
  const ev = (json(files[0]).traceEvents as Array<{ ph: string; dur?: number }>) ?? [];
  need(
    ev.some((e) => e.ph === 'X' && typeof e.dur === 'number'),
    'no complete (X) events',
  );
  return `${ev.length} trace events`;
}

function valMetrics(f: string): string {
  const m = json(f) as { stats?: number[]; statsByName?: Record<string, number> };
  need(
    Array.isArray(m.stats) && m.stats.length === 12 && m.stats.every((x) => x >= -1 && x <= 1),
    '12 stats in [-1, 1] expected',
  );
  need(
    STAT_NAMES.every((k) => typeof m.statsByName?.[k] === 'number'),
    'stats by name missing',
  );
  return `mAP ${m.statsByName!.map.toFixed(3)}, mAP50 ${m.statsByName!.map_50.toFixed(3)}`;
}

/** Every outcome count in `totals` (the analysis stage's OUTCOMES) and a per-class table; reports the mission's four error kinds. */
function errorAnalysis(f: string): string {
  const a = json(f) as { totals?: Record<string, unknown>; perClass?: unknown };
  for (const k of OUTCOMES) need(typeof a.totals?.[k] === 'number', `totals.${k} missing`);
  need(Array.isArray(a.perClass), 'perClass missing');
  return `errors ${(['cls_error', 'loc_error', 'missed', 'false_pos'] as const).map((k) => `${k}=${a.totals![k]}`).join(' ')}`;
}

function jsonl(f: string, fields: string[]): string {
  const rows = readJsonLines(f);
  need(rows.length > 0, 'empty');
  const bad = rows.findIndex((r) => fields.some((k) => r[k] === undefined));
  need(bad < 0, `line ${bad + 1} lacks one of ${fields.join(', ')}`);
  return `${rows.length} records`;
}

function ablation(dir: string): string {
  const a = json(path.join(dir, 'ablation.json')) as {
    real?: { best_val_acc?: number };
    real_synth?: { best_val_acc?: number };
    delta?: number;
  };
  need(
    typeof a.real?.best_val_acc === 'number' &&
      typeof a.real_synth?.best_val_acc === 'number' &&
      typeof a.delta === 'number',
    'real.best_val_acc, real_synth.best_val_acc and delta expected',
  );
  need(Math.abs(a.real_synth!.best_val_acc! - a.real!.best_val_acc! - a.delta!) < 1e-9, 'delta ≠ real_synth − real');
  const md = fs.readFileSync(path.join(dir, 'ablation.md'), 'utf8');
  need(
    /эксперимент/.test(md) && /synth_used/.test(md) && /best_val_acc/.test(md) && /Δ/.test(md),
    'ablation table columns missing',
  );
  return `real ${a.real!.best_val_acc!.toFixed(3)}, real+synth ${a.real_synth!.best_val_acc!.toFixed(3)}, Δ ${a.delta!.toFixed(3)}`;
}

function report(f: string): string {
  const html = fs.readFileSync(f, 'utf8');
  need(html.includes('<h2>Contents</h2>') && !/class="failed"/.test(html), 'report incomplete or has a failed stage');
  need(/<svg|data:image\/png;base64/.test(html), 'report has no charts or images');
  return `${(html.length / 1e6).toFixed(1)} MB`;
}

export function artifactChecks(r: ArtifactRoots): Array<[string, Check]> {
  const run = (...p: string[]) => path.join(r.run, ...p);
  return [
    [
      run('config.json'),
      () => {
        const c = json(run('config.json'));
        need(c.params && c.engine, 'params/engine missing');
        return 'resolved parameters + engine';
      },
    ],
    [run('log.jsonl'), () => jsonl(run('log.jsonl'), ['split', 'step', 'epoch'])],
    [run('tb'), () => tensorboard(run('tb'))],
    [run('tb', 'plugins', 'profile'), () => trace(run('tb'))],
    [run('checkpoints', 'best'), () => checkpoint(run('checkpoints', 'best'))],
    [run('checkpoints', 'last'), () => checkpoint(run('checkpoints', 'last'))],
    [run('plots', 'loss_curves.png'), () => png(run('plots', 'loss_curves.png'))],
    [run('metrics', 'val_metrics.json'), () => valMetrics(run('metrics', 'val_metrics.json'))],
    [
      run('metrics', 'detections_val.json'),
      () => {
        const d = readJsonFile<unknown[]>(run('metrics', 'detections_val.json'), { shape: 'any' });
        need(Array.isArray(d), 'not a COCO results list');
        return `${d.length} detections`;
      },
    ],
    [run('viz', 'contact_sheet.png'), () => png(run('viz', 'contact_sheet.png'))],
    [run('analysis', 'error_analysis.json'), () => errorAnalysis(run('analysis', 'error_analysis.json'))],
    [
      path.join(r.crops, 'manifest.jsonl'),
      () => jsonl(path.join(r.crops, 'manifest.jsonl'), ['file', 'split', 'class', 'bboxXywh']),
    ],
    [
      path.join(r.synth, 'metadata.jsonl'),
      () =>
        jsonl(path.join(r.synth, 'metadata.jsonl'), [
          'file',
          'class',
          'prompt',
          'seed',
          'steps',
          'guidance',
          'scheduler',
        ]),
    ],
    [path.join(r.ablation, 'ablation.json'), () => ablation(r.ablation)],
    [r.report, () => report(r.report)],
  ];
}

export async function checkArtifacts(r: ArtifactRoots): Promise<ArtifactCheck[]> {
  const out: ArtifactCheck[] = [];
  for (const [artifact, check] of artifactChecks(r)) {
    try {
      if (!fs.existsSync(artifact)) throw new Error('missing');
      out.push({ artifact, ok: true, detail: await check() });
    } catch (e) {
      out.push({ artifact, ok: false, detail: (e as Error).message });
    }
  }
  return out;
}
