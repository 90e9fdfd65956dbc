/**
 * The record ablation.json holds (written by ablation_report.ts, drawn by ablation_charts.ts and
 * ablation_tables.ts), and the reader of one classifier run's metrics.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJson } from '../io/atomic.js';
import type { MeanInterval } from './interval.js';
import type { SynthQuality } from '../synth/synth_quality.js';
import type { SynthProvenance } from './crop_samples.js';
import type { RunMetrics } from './train_run.js';
import type { AblationRunRef } from './ablation_plan.js';

export interface SeedResult {
  seed: number;
  dir: string;
  best_val_acc: number;
  best_epoch: number;
  balanced_acc: number;
  rare_acc: number | null;
}
export interface RunSummary {
  best_val_acc: number;
  /** Sample std over seeds (0 with one seed). */
  best_val_acc_std: number;
  /** The first seed's best epoch, 0-based as in log.jsonl (per seed in `per_seed`). */
  best_epoch: number;
  balanced_acc: number;
  rare_acc: number | null;
  /** Accuracy of each class at the best epoch, mean over seeds. */
  per_class: Record<string, number | null>;
  per_seed: SeedResult[];
}
export interface AblationJson {
  real: RunSummary;
  real_synth: RunSummary;
  /** real_synth.best_val_acc − real.best_val_acc. */
  delta: number;
  delta_std: number;
  delta_per_seed: number[];
  delta_balanced_acc: number;
  delta_rare_acc: number | null;
  /** Δ of best_val_acc and of rare-class accuracy per seed, and their mean with a 95 % t-interval (null with one seed). */
  delta_rare_per_seed: Array<number | null>;
  delta_ci95: MeanInterval | null;
  delta_rare_ci95: MeanInterval | null;
  delta_per_class: Record<string, number | null>;
  classes: string[];
  rare: string[];
  rare_classes: Array<{ class: string; train_crops_real: number; synth_images: number }>;
  epochs: number;
  seeds: number[];
  synth: { dir: string; images_used: number; provenance: SynthProvenance[]; tiny_models: boolean; note: string };
  /** True: every seed's two runs recorded the same real-sample order digest in every epoch. */
  real_data_identical: boolean;
  backbone: RunMetrics['backbone'];
  backend: string;
  runs: Array<AblationRunRef & { seconds: number; train_img_per_s: number }>;
  /** Recognisability, edge IoU and KID of the synthetic images (synth_quality.json beside ablation.json), when present. */
  synth_quality?: SynthQuality;
}

export function readRunMetrics(dir: string): RunMetrics {
  const f = path.join(dir, 'metrics.json');
  if (!fs.existsSync(f)) throw new Error(`${f} does not exist: the run did not finish`);
  return readJson<RunMetrics>(f);
}
