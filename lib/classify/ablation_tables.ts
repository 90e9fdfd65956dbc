/**
 * The ablation's tables, in the seed template's exact columns, built from ablation.json:
 *   | эксперимент | synth_used | best_val_acc |   rows `real`, `real + synth`, `Δ`
 *   | class | train crops (real) | synth images |   one row per rare class
 * plus a per-class table, and ablation.md holding all of them.
 */
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { markdownTable, Row } from '../viz/table.js';
import type { AblationJson, RunSummary } from './ablation_json.js';
import { qualityTable } from '../synth/synth_quality.js';

export const ABLATION_COLUMNS = ['эксперимент', 'synth_used', 'best_val_acc'] as const;
export const RARE_COLUMNS = ['class', 'train crops (real)', 'synth images'] as const;

const f4 = (x: number) => x.toFixed(4);
const signed = (x: number) => (x >= 0 ? '+' : '') + f4(x);
const withStd = (v: string, std: number, n: number) => (n > 1 ? `${v} ± ${f4(std)}` : v);
const accCell = (r: RunSummary) => withStd(f4(r.best_val_acc), r.best_val_acc_std, r.per_seed.length);
const pct = (x: number | null) => (x === null ? '–' : f4(x));

/** The ablation table: real, real + synth, Δ (mean ± std over seeds when there are several). */
export function ablationTable(j: AblationJson): Row[] {
  return [
    { эксперимент: 'real', synth_used: 'no', best_val_acc: accCell(j.real) },
    {
      эксперимент: 'real + synth',
      synth_used: `yes (${j.synth.images_used} images)`,
      best_val_acc: accCell(j.real_synth),
    },
    { эксперимент: 'Δ', synth_used: '', best_val_acc: withStd(signed(j.delta), j.delta_std, j.seeds.length) },
  ];
}

export function rareClassesTable(j: AblationJson): Row[] {
  return j.rare_classes.map((r) => ({
    class: r.class,
    'train crops (real)': r.train_crops_real,
    'synth images': r.synth_images,
  }));
}

/** Accuracy of every class at the best epoch (mean over seeds), both runs and Δ. */
export function perClassTable(j: AblationJson): Row[] {
  return j.classes.map((c) => ({
    class: c,
    rare: j.rare.includes(c) ? 'yes' : '',
    real: pct(j.real.per_class[c]),
    'real + synth': pct(j.real_synth.per_class[c]),
    Δ: j.delta_per_class[c] === null ? '–' : signed(j.delta_per_class[c] as number),
  }));
}

/** Secondary figures: balanced and rare-class accuracy, best epochs (1-based here; 0-based in the JSON and logs). */
export function detailsTable(j: AblationJson): Row[] {
  const row = (name: string, r: RunSummary) => ({
    run: name,
    best_val_acc: f4(r.best_val_acc),
    best_epoch: r.per_seed.map((s) => `${s.best_epoch + 1}/${j.epochs}`).join(', '),
    balanced_acc: f4(r.balanced_acc),
    rare_acc: pct(r.rare_acc),
  });
  return [
    row('real', j.real),
    row('real + synth', j.real_synth),
    {
      run: 'Δ',
      best_val_acc: signed(j.delta),
      best_epoch: '',
      balanced_acc: signed(j.delta_balanced_acc),
      rare_acc: j.delta_rare_acc === null ? '–' : signed(j.delta_rare_acc),
    },
  ];
}

const ci = (c: AblationJson['delta_ci95']) =>
  c ? `${signed(c.mean)} (95 % CI ${signed(c.lo)} … ${signed(c.hi)}, n = ${c.n})` : '–';

/** Δ overall and for the rare classes with their 95 % t-intervals over the seeds (needs ≥ 2 seeds). */
export function deltaIntervalLines(j: AblationJson): string[] {
  if (!j.delta_ci95) return [];
  return [
    `Δ best_val_acc: ${ci(j.delta_ci95)}; Δ rare-class accuracy: ${ci(j.delta_rare_ci95 ?? null)} ` +
      '(paired per seed; mean ± t₀.₉₇₅ · s/√n). An interval that contains 0 shows no effect at this number of seeds.',
    '',
  ];
}

export function ablationMarkdown(j: AblationJson, charts: Record<string, string> = {}): string {
  const seeds =
    j.seeds.length > 1 ? `${j.seeds.length} seeds (${j.seeds.join(', ')}), mean ± sample std` : `seed ${j.seeds[0]}`;
  const backbone = j.backbone.weightsFile
    ? `initialised from ${j.backbone.backboneWeights} (${j.backbone.loadedTensors} backbone tensors)`
    : 'random init';
  const lines = [
    '# Ablation: real vs real + synth',
    '',
    j.synth.tiny_models ? `**${j.synth.note}**` : j.synth.note,
    '',
    markdownTable(ablationTable(j), 4, [...ABLATION_COLUMNS]),
    '',
    `best_val_acc: top-1 accuracy on the real val crops at the best of ${j.epochs} epochs; ${seeds}. ` +
      `Synthetic images are added to the rare classes' training set only; both runs share seed, split, schedule, initial weights and real-sample order ` +
      `(${j.real_data_identical ? 'checked from the recorded digests' : 'NOT verified'}).`,
    '',
    ...deltaIntervalLines(j),
    '## Rare classes',
    '',
    markdownTable(rareClassesTable(j), 4, [...RARE_COLUMNS]),
    '',
    ...(j.synth_quality
      ? [
          '## Quality of the synthetic images',
          '',
          qualityTable(j.synth_quality),
          '',
          `Recognised as prompted: the fraction of a class's synthetic images that a real-only classifier trained on every real train crop (\`judge\`, or the first seed's \`real\` run when nothing is cut) predicts as that class. ` +
            `Edge IoU: Canny edges of the synthetic image vs its control map. ${j.synth_quality.kid?.note ?? ''}.`,
          '',
        ]
      : []),
    '## Balanced and rare-class accuracy (best epoch)',
    '',
    markdownTable(detailsTable(j)),
    '',
    '## Per-class accuracy (best epoch)',
    '',
    markdownTable(perClassTable(j)),
    '',
    `Backbone: ${backbone}, depth ${j.backbone.backbone.depth}, width ${j.backbone.backbone.width}, trainable from ${j.backbone.backbone.trainableFrom}. Backend: ${j.backend}. ` +
      `Synthetic images: ${j.synth.provenance.map((x) => `${x.images} from ${x.models}`).join('; ')}.`,
    '',
    `Runs: ${j.runs.map((r) => `${r.dir} (${r.seconds.toFixed(0)} s)`).join(', ')}.`,
  ];
  const imgs = Object.entries(charts).map(([title, file]) => `![${title}](${file})`);
  return [...lines, ...(imgs.length ? ['', '## Charts', '', ...imgs] : []), ''].join('\n');
}

export function writeAblationMarkdown(outputDir: string, j: AblationJson, charts: Record<string, string> = {}): string {
  const file = path.join(outputDir, 'ablation.md');
  writeFileAtomic(file, ablationMarkdown(j, charts));
  return file;
}

/** Rows of the first markdown table whose header is exactly `columns`, as strings (reads a report back). */
export function parseMarkdownTable(md: string, columns: readonly string[]): Array<Record<string, string>> {
  const lines = md.split('\n');
  const split = (l: string) =>
    l
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replace(/\\\|/g, '|'));
  const start = lines.findIndex((l) => l.trim().startsWith('|') && split(l).join('\u0000') === columns.join('\u0000'));
  if (start < 0) throw new Error(`no table with columns ${columns.join(' | ')}`);
  const rows: Array<Record<string, string>> = [];
  for (let i = start + 2; i < lines.length && lines[i].trim().startsWith('|'); i++) {
    const cells = split(lines[i]);
    rows.push(Object.fromEntries(columns.map((c, k) => [c, cells[k] ?? ''])));
  }
  return rows;
}
