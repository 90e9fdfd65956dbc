/**
 * Tables for a finished training run, read from its files (log.jsonl, train_summary.json).
 */
import { LogRow } from './run_dir.js';

const STAT_LABELS: Array<[string, string]> = [
  ['map', 'mAP @[.5:.95]'], ['map_50', 'mAP50'], ['map_75', 'AP75'], ['map_small', 'AP small'], ['map_medium', 'AP medium'], ['map_large', 'AP large'],
  ['mar_1', 'AR@1'], ['mar_10', 'AR@10'], ['mar_100', 'AR@100'], ['mar_small', 'AR small'], ['mar_medium', 'AR medium'], ['mar_large', 'AR large'],
];

/** One row per validation: epoch, step and the 12 COCO stats (−1 = no ground truth in that range). */
export function valMetricsTable(log: LogRow[]): Array<Record<string, number | string>> {
  return log.filter((r) => r.split === 'val').map((r) => {
    const row: Record<string, number | string> = { epoch: r.epoch + 1, step: r.step };
    for (const [k, label] of STAT_LABELS) if (typeof r[k] === 'number') row[label] = r[k] as number;
    return row;
  });
}

/** Per-epoch means of the train losses, and the epoch's images/s from its wall-clock log rows. */
export function trainSummaryTable(log: LogRow[]): Array<Record<string, number>> {
  const byEpoch = new Map<number, LogRow[]>();
  for (const r of log) if (r.split === 'train') byEpoch.set(r.epoch, [...(byEpoch.get(r.epoch) ?? []), r]);
  return [...byEpoch].map(([epoch, rows]) => {
    const mean = (k: string) => rows.reduce((a, r) => a + (Number(r[k]) || 0), 0) / rows.length;
    return { epoch: epoch + 1, steps: rows.length, loss_total: mean('loss_total'), loss_ce: mean('loss_ce'), loss_bbox: mean('loss_bbox'), loss_giou: mean('loss_giou'), lr: Number(rows[rows.length - 1].lr) };
  });
}
