/**
 * The "results" figure of a run (Ultralytics' results.png): per loss term, the train epoch means and
 * the validation values (log.jsonl's `split: 'val'` rows, where they carry loss terms), and mAP / mAP50
 * per evaluation; epoch 0 is the validation before the first step (the pre-trained model). The same
 * numbers as a table: `resultsTable` (one row per epoch, written as results.csv).
 */
import type { LogRow } from '../io/run_dir.js';
import type { VlSpec } from './vega_render.js';

const TERMS = ['loss_total', 'loss_ce', 'loss_bbox', 'loss_giou'] as const;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export interface ResultsRow {
  epoch: number;
  step: number;
  [column: string]: number | undefined;
}

/** One row per epoch (1-based; 0 = before fine-tuning): train/<term> means, val/<term>, mAP, mAP50. */
export function resultsTable(log: LogRow[]): ResultsRow[] {
  const rows = new Map<number, ResultsRow>();
  const row = (e: number, step: number) => {
    const r = rows.get(e) ?? { epoch: e, step };
    r.step = Math.max(r.step, step);
    rows.set(e, r);
    return r;
  };
  const sums = new Map<string, { s: number; n: number }>();
  for (const r of log) {
    if (r.split === 'train') {
      const out = row(r.epoch + 1, r.step);
      for (const t of TERMS) {
        const v = num(r[t]);
        if (v === undefined) continue;
        const k = `${r.epoch + 1}/${t}`,
          a = sums.get(k) ?? { s: 0, n: 0 };
        a.s += v;
        a.n++;
        sums.set(k, a);
        out[`train/${t}`] = a.s / a.n;
      }
    } else if (r.split === 'val') {
      const e = r.epoch + 1; // a validation before the first step is logged with epoch −1 → 0
      const out = row(e, r.step);
      for (const t of TERMS) if (num(r[t]) !== undefined) out[`val/${t}`] = num(r[t]);
      if (num(r.map) !== undefined) out.mAP = num(r.map);
      if (num(r.map_50) !== undefined) out.mAP50 = num(r.map_50);
    }
  }
  return [...rows.values()].sort((a, b) => a.epoch - b.epoch);
}

export function resultsCsv(rows: ResultsRow[]): string {
  const cols = ['epoch', 'step', ...TERMS.map((t) => `train/${t}`), ...TERMS.map((t) => `val/${t}`), 'mAP', 'mAP50'];
  return (
    [cols.join(','), ...rows.map((r) => cols.map((c) => (r[c] === undefined ? '' : String(r[c]))).join(','))].join(
      '\n',
    ) + '\n'
  );
}

export function resultsFigure(log: LogRow[], title = 'Results'): VlSpec {
  const rows = resultsTable(log);
  const long = rows.flatMap((r) =>
    Object.entries(r)
      .filter(([k, v]) => k.includes('/') && v !== undefined)
      .map(([k, v]) => ({ epoch: r.epoch, split: k.split('/')[0], term: k.split('/')[1], value: v as number })),
  );
  const maps = rows.flatMap((r) =>
    (['mAP', 'mAP50'] as const)
      .filter((k) => r[k] !== undefined)
      .map((k) => ({ epoch: r.epoch, metric: k, value: r[k] as number })),
  );
  const x = { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } };
  const panel = (t: string) => ({
    title: t,
    width: 170,
    height: 130,
    data: { values: long.filter((v) => v.term === t) },
    mark: { type: 'line', point: true },
    encoding: {
      x,
      y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false }, axis: { format: '.3~g' } },
      color: { field: 'split', type: 'nominal', title: null, scale: { domain: ['train', 'val'] } },
    },
  });
  return {
    title,
    hconcat: [
      ...TERMS.map(panel),
      {
        title: 'mAP / mAP50 (val)',
        width: 170,
        height: 130,
        data: { values: maps },
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: {
            field: 'value',
            type: 'quantitative',
            title: null,
            scale: { domain: [0, Math.max(0.05, ...maps.map((m) => m.value))] },
          },
          color: { field: 'metric', type: 'nominal', title: null },
        },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  };
}
