/**
 * Loss curves from a run's log.jsonl: classification (loss_ce) and box regression (loss_bbox,
 * loss_giou) on separate panels, per-step values faint and per-epoch means bold, plus the total.
 * `plots/loss_curves.png` is rewritten at the end of every epoch.
 */
import { LogRow } from '../io/run_dir.js';
import { VlSpec, renderPng } from '../viz/vega_render.js';
import { writeFileAtomic } from '../io/atomic.js';

const PANELS: Array<{ title: string; terms: string[] }> = [
  { title: 'classification (loss_ce)', terms: ['loss_ce'] },
  { title: 'box regression (loss_bbox, loss_giou)', terms: ['loss_bbox', 'loss_giou'] },
  { title: 'weighted total (loss_total)', terms: ['loss_total'] },
];

/** Long-format rows {step, epoch, term, value} of the train split. */
export function lossRows(log: LogRow[]): Array<{ step: number; epoch: number; term: string; value: number }> {
  const out: Array<{ step: number; epoch: number; term: string; value: number }> = [];
  for (const r of log) {
    if (r.split !== 'train') continue;
    for (const term of ['loss_ce', 'loss_bbox', 'loss_giou', 'loss_total']) {
      const v = r[term];
      if (typeof v === 'number' && Number.isFinite(v)) out.push({ step: r.step, epoch: r.epoch, term, value: v });
    }
  }
  return out;
}

export function lossCurvesSpec(log: LogRow[], title = 'DETR training losses'): VlSpec {
  const rows = lossRows(log);
  return {
    title,
    vconcat: PANELS.map((p) => ({
      title: p.title,
      width: 520,
      height: 150,
      data: { values: rows.filter((r) => p.terms.includes(r.term)) },
      layer: [
        {
          mark: { type: 'line', opacity: 0.3, strokeWidth: 1 },
          encoding: {
            x: { field: 'step', type: 'quantitative' },
            y: { field: 'value', type: 'quantitative', title: 'loss' },
            color: { field: 'term', type: 'nominal' },
          },
        },
        {
          transform: [
            {
              aggregate: [
                { op: 'mean', field: 'value', as: 'epoch_mean' },
                { op: 'max', field: 'step', as: 'step' },
              ],
              groupby: ['epoch', 'term'],
            },
          ],
          mark: { type: 'line', point: true, strokeWidth: 2 },
          encoding: {
            x: { field: 'step', type: 'quantitative' },
            y: { field: 'epoch_mean', type: 'quantitative', title: 'loss' },
            color: { field: 'term', type: 'nominal' },
          },
        },
      ],
    })),
  };
}

export async function writeLossCurves(log: LogRow[], file: string): Promise<void> {
  writeFileAtomic(file, await renderPng(lossCurvesSpec(log)));
}
