/**
 * Training checkpoints: `<run>/checkpoints/{last,best}/` each holding
 *   model.safetensors + config.json   HF DetrForObjectDetection names/config (Python transformers loads it)
 *   optimizer.safetensors             AdamW moments `exp_avg.<name>` / `exp_avg_sq.<name>` (tfjs layout)
 *   trainer_state.json                epoch, step, position in the epoch, best metric, lrs, seed, config
 * A checkpoint folder is replaced as a whole (written to a temp folder, then renamed), so a kill at any
 * moment leaves the previous checkpoint loadable.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { replaceDirAtomic, recoverDir, readJson } from '../io/atomic.js';
import { writeSafetensors, readSafetensors, toFloat32, TensorToWrite } from '../io/safetensors.js';
import { DetrModel } from '../detr/model.js';
import { writeDetrCheckpoint } from '../detr/weights.js';
import { LabelInfo } from '../detr/hf_config.js';
import { AdamWState } from './optimizer.js';
import { UserError } from '../params/user_error.js';
import { parseJsonText } from '../io/json_file.js';
import { firstNonFiniteIn } from '../engine/finite.js';

export interface TrainerState {
  /** Epoch in progress (0-based) and how many of its batches are done. */
  epoch: number;
  batchInEpoch: number;
  /** Optimizer steps done so far. */
  step: number;
  bestMetric: number | null;
  bestEpoch: number | null;
  lrs: { lr: number; lrBackbone: number };
  seed: number;
  /** Whether `epoch` finished (then training continues at epoch + 1, batch 0). */
  epochComplete: boolean;
  savedAt: string;
  config?: Record<string, unknown>;
}

/** A checkpoint refused because a tensor holds NaN/Inf (the run diverged): exit 2, nothing written. */
export class NonFiniteCheckpoint extends Error {
  constructor(dir: string, step: number, tensor: string, value: number) {
    super(
      `training diverged by step ${step}: tensor ${tensor} holds ${value}; ${dir} was not overwritten and keeps the last finite checkpoint. ` +
        'Lower --lr / --lr-backbone or keep --clip-max-norm > 0.',
    );
    this.name = 'UserError';
  }
}

export function optimizerTensors(s: AdamWState): Map<string, TensorToWrite> {
  const out = new Map<string, TensorToWrite>();
  for (const [k, v] of s.m) out.set(`exp_avg.${k}`, { dtype: 'F32', shape: [v.length], data: v });
  for (const [k, v] of s.v) out.set(`exp_avg_sq.${k}`, { dtype: 'F32', shape: [v.length], data: v });
  return out;
}

/**
 * Writes a complete checkpoint folder atomically from the trainer's exported values (tfjs layout, by HF
 * name) — no tensor reads here, so it works whatever backend trained.
 */
export function writeCheckpoint(
  dir: string,
  model: Pick<DetrModel, 'cfg' | 'params'>,
  values: Map<string, Float32Array>,
  labels: LabelInfo,
  optim: AdamWState,
  state: TrainerState,
  dtype: 'F32' | 'F16' = 'F32',
): void {
  // Never write NaN/Inf: the folder on disk keeps the previous (finite) checkpoint.
  const bad =
    firstNonFiniteIn(values) ??
    firstNonFiniteIn([...optim.m].map(([k, v]) => [`exp_avg.${k}`, v])) ??
    firstNonFiniteIn([...optim.v].map(([k, v]) => [`exp_avg_sq.${k}`, v]));
  if (bad) throw new NonFiniteCheckpoint(dir, state.step, bad.name, bad.value);
  replaceDirAtomic(dir, (tmp) => {
    writeDetrCheckpoint(tmp, model.params.specs.values(), values, model.cfg, labels, dtype);
    writeSafetensors(path.join(tmp, 'optimizer.safetensors'), optimizerTensors(optim), {
      step: String(optim.step),
      lrs: JSON.stringify(optim.lrs),
      layout: 'tfjs',
    });
    fs.writeFileSync(path.join(tmp, 'trainer_state.json'), JSON.stringify(state, null, 2) + '\n');
  });
}

export interface LoadedTrainingCheckpoint {
  state: TrainerState;
  optimizer: AdamWState;
  weights: string;
}

/** Reads a checkpoint folder's trainer state and optimizer state (weights are loaded by the caller). */
export function readCheckpoint(dir: string): LoadedTrainingCheckpoint {
  recoverDir(dir);
  const weights = path.join(dir, 'model.safetensors');
  const stateFile = path.join(dir, 'trainer_state.json');
  if (!fs.existsSync(stateFile) || !fs.existsSync(weights))
    throw new UserError(`no resumable checkpoint in ${dir} (needs model.safetensors and trainer_state.json)`);
  const state = readJson<TrainerState>(stateFile, 'written by `detrlab train`');
  const bad = (['epoch', 'batchInEpoch', 'step'] as const).find((k) => !Number.isInteger(state[k]) || state[k] < 0);
  if (bad)
    throw new UserError(
      `${stateFile}: "${bad}" is ${JSON.stringify(state[bad])}, expected a whole number ≥ 0; the checkpoint is damaged`,
    );
  const optFile = path.join(dir, 'optimizer.safetensors');
  if (!fs.existsSync(optFile))
    throw new UserError(`no resumable checkpoint in ${dir}: optimizer.safetensors is missing`);
  const opt = readSafetensors(optFile);
  const m = new Map<string, Float32Array>(),
    v = new Map<string, Float32Array>();
  for (const [k, t] of opt.tensors) {
    if (k.startsWith('exp_avg_sq.')) v.set(k.slice('exp_avg_sq.'.length), toFloat32(t));
    else if (k.startsWith('exp_avg.')) m.set(k.slice('exp_avg.'.length), toFloat32(t));
  }
  const lrs = parseJsonText<Record<string, number>>(opt.metadata.lrs ?? '{}', `${optFile} (metadata "lrs")`);
  const optimizer: AdamWState = { step: Number(opt.metadata.step ?? state.step), lrs, m, v };
  return { state, optimizer, weights };
}
