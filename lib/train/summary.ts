/**
 * The validation table of a training run, read from its log.jsonl.
 */
import { LogRow } from '../io/run_dir.js';

const STAT_LABELS: Array<[string, string]> = [
  ['map', 'mAP @[.5:.95]'],
  ['map_50', 'mAP50'],
  ['map_75', 'AP75'],
  ['map_small', 'AP small'],
  ['map_medium', 'AP medium'],
  ['map_large', 'AP large'],
  ['mar_1', 'AR@1'],
  ['mar_10', 'AR@10'],
  ['mar_100', 'AR@100'],
  ['mar_small', 'AR small'],
  ['mar_medium', 'AR medium'],
  ['mar_large', 'AR large'],
];

/** One row per validation: epoch, step and the 12 COCO stats (−1 = no ground truth in that range). */
export function valMetricsTable(log: LogRow[]): Array<Record<string, number | string>> {
  return log
    .filter((r) => r.split === 'val')
    .map((r) => {
      const row: Record<string, number | string> = { epoch: r.epoch + 1, step: r.step };
      for (const [k, label] of STAT_LABELS) if (typeof r[k] === 'number') row[label] = r[k] as number;
      return row;
    });
}
