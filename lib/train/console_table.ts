/**
 * What `detrlab train` prints besides its live bar, in the manner of the HF Trainer / Ultralytics: one
 * table row per epoch (mean train loss terms, the validation figures when the epoch was evaluated) and
 * a short final summary. Epochs are shown 1-based, as the live bar counts them.
 */
import { fmtDuration } from '../viz/progress.js';

export interface EpochRow {
  /** 0-based epoch index. */
  epoch: number;
  epochs: number;
  step: number;
  /** Mean train loss terms of the epoch (loss_total, loss_ce, loss_bbox, loss_giou). */
  train: Record<string, number>;
  /** Validation figures (COCO stats by name; val loss terms where logged); undefined when not evaluated. */
  val?: Record<string, number>;
  imgPerSec: number;
  seconds: number;
}

const COLUMNS: Array<[string, number]> = [
  ['epoch', 7],
  ['step', 6],
  ['loss', 7],
  ['ce', 7],
  ['bbox', 7],
  ['giou', 7],
  ['val_loss', 8],
  ['mAP', 6],
  ['mAP50', 6],
  ['AR@100', 6],
  ['img/s', 6],
  ['time', 7],
];

const num = (v: number | undefined, digits = 3) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));

export function epochHeader(): string {
  return COLUMNS.map(([name, w]) => name.padStart(w)).join(' ');
}

export function epochLine(r: EpochRow): string {
  const v = r.val;
  const cells = [
    `${r.epoch + 1}/${r.epochs}`,
    String(r.step),
    num(r.train.loss_total),
    num(r.train.loss_ce),
    num(r.train.loss_bbox),
    num(r.train.loss_giou),
    num(v?.loss_total),
    num(v?.map),
    num(v?.map_50),
    num(v?.mar_100),
    num(r.imgPerSec, 2),
    fmtDuration(r.seconds),
  ];
  return cells.map((c, i) => c.padStart(COLUMNS[i][1])).join(' ');
}

export interface TrainOutcome {
  runDir: string;
  steps: number;
  epochsDone: number;
  epochs: number;
  stoppedEarly: boolean;
  seconds: number;
  imgPerSec: number;
  /** Best validation mAP and its 0-based epoch. */
  best: { map: number; epoch: number } | null;
  /** The last validation's COCO stats by name. */
  last?: Record<string, number>;
  backend: string;
  workers: number;
  tracePath?: string;
}

/** The final summary: a few lines a person reads, instead of the JSON dump (train_summary.json keeps that). */
export function trainSummary(o: TrainOutcome): string {
  const l = o.last;
  const lines = [
    `[train] done: ${o.epochsDone}/${o.epochs} epoch(s), ${o.steps} steps in ${fmtDuration(o.seconds)}` +
      ` (${o.imgPerSec.toFixed(2)} img/s, ${o.backend} × ${o.workers})${o.stoppedEarly ? '; stopped early by --max-steps' : ''}`,
  ];
  if (o.best)
    lines.push(
      `[train] best val mAP ${o.best.map.toFixed(4)} at epoch ${o.best.epoch + 1} → ${o.runDir}/checkpoints/best`,
    );
  if (l) lines.push(`[train] last val: mAP ${num(l.map, 4)}, mAP50 ${num(l.map_50, 4)}, AR@100 ${num(l.mar_100, 4)}`);
  lines.push(
    `[train] run folder ${o.runDir}: log.jsonl, tb/ (tensorboard --logdir ${o.runDir}/tb), plots/, train_summary.json`,
  );
  lines.push(`[train] next: detrlab eval --run ${o.runDir}`);
  return lines.join('\n');
}
