/**
 * Checkpoints by Hugging Face `DetrForObjectDetection` tensor names: load a safetensors file into a
 * ParamStore with a report, and save `model.safetensors` + `config.json` that Python transformers loads.
 *
 * Class head (`class_labels_classifier.{weight,bias}`) when the checkpoint's K differs from the model's:
 *  - `reinit` (default): what `from_pretrained(…, ignore_mismatched_sizes=True)` does — the mismatched
 *    tensors are dropped and keep HF `_init_weights`: weight N(0, initStd = 0.02), bias 0 (transformers
 *    `modeling_detr.py` `DetrPreTrainedModel._init_weights`; `modeling_utils` `_find_mismatched_keys`).
 *  - `coco-rows`: the pretrained head's row index equals the COCO category id (row 91 = no-object:
 *    facebook/detr-resnet-50 `config.json` `id2label`, num_labels 91), so a K-class head starts from rows
 *    [categoryIds…, last row].
 * Any other missing tensor or shape mismatch is a UserError unless `strict: false`.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as path from 'node:path';
import { ParamStore, fromHf, initValues, tfShape, TensorSpec, TensorLayout } from './param_store.js';
import {
  SafeTensorsFile,
  SafeTensor,
  readSafetensors,
  toFloat32,
  writeSafetensors,
  TensorToWrite,
} from '../io/safetensors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { DetrConfig } from './config.js';
import { hfConfigJson, LabelInfo } from './hf_config.js';
import { toHfResnetName, usesHfResnetNames, withDetrlabBackboneNames } from './hf_backbone.js';
import { Rng } from '../engine/rng.js';
import { UserError } from '../params/user_error.js';
import { firstNonFinite } from '../engine/finite.js';

export type HeadInit = 'reinit' | 'coco-rows';
export const CLASS_HEAD = ['class_labels_classifier.weight', 'class_labels_classifier.bias'] as const;

export interface LoadOptions {
  headInit?: HeadInit;
  /** COCO category id of each label (required by `coco-rows`). */
  categoryIds?: readonly number[];
  /** Std of the re-initialised head (HF init_std, 0.02). */
  initStd?: number;
  /** false: keep (freshly initialised) tensors that are missing or mismatched instead of failing. */
  strict?: boolean;
  /** Draws re-initialised and missing tensors. */
  rng: Rng;
  /** The file the tensors came from, named in errors when `file` is already read. */
  source?: string;
}

export interface LoadReport {
  loaded: number;
  /** Model tensors absent from the checkpoint. */
  missing: string[];
  /** Checkpoint tensors the model does not have (e.g. `num_batches_tracked`), skipped. */
  unexpected: string[];
  /** Model tensors given a fresh init because the checkpoint's shape did not fit (the class head). */
  reinitialised: string[];
  /** Shape mismatches outside the class head. */
  shapeMismatch: Array<{ name: string; checkpoint: number[]; model: number[] }>;
  /** With `coco-rows`: the checkpoint rows the class head was built from. */
  headRows?: number[];
}

const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16']);

/**
 * PyTorch layout ↔ ours as a plain-JS permutation (same mapping as param_store's `fromHf`/`toHf`,
 * much faster than a tensor transpose on the cpu backend for 41M values):
 * conv [O, I, kh, kw] ↔ [kh, kw, I, O]; linear [O, I] ↔ [I, O]; plain unchanged.
 */
export function permuteLayout(
  data: Float32Array,
  hfShape: number[],
  layout: TensorLayout,
  direction: 'fromHf' | 'toHf',
): Float32Array {
  if (layout === 'plain') return data;
  const [o, i, kh, kw] = layout === 'conv' ? hfShape : [hfShape[0], hfShape[1], 1, 1];
  const out = new Float32Array(data.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) {
          const hf = ((a * i + b) * kh + y) * kw + x,
            ours = ((y * kw + x) * i + b) * o + a;
          if (direction === 'fromHf') out[ours] = data[hf];
          else out[hf] = data[ours];
        }
  return out;
}

/** The tensor's values as float32, refusing NaN/Inf (a corrupt file or a diverged run's weights). */
function finiteValues(name: string, t: SafeTensor, where: string): Float32Array {
  const v = toFloat32(t);
  const i = firstNonFinite(v);
  if (i >= 0)
    throw new UserError(
      `${where}: tensor '${name}' holds ${v[i]} at index ${i}; a weight must be finite (a corrupt file, or a diverged run?)`,
    );
  return v;
}

function tensorFor(spec: TensorSpec, t: SafeTensor, where: string): tf.Tensor {
  if (!FLOAT_DTYPES.has(t.dtype))
    throw new UserError(`${where}: tensor '${spec.name}' has dtype ${t.dtype}; a weight must be F32, F16, BF16 or F64`);
  return tf.tensor(permuteLayout(finiteValues(spec.name, t, where), t.shape, spec.layout, 'fromHf'), tfShape(spec));
}

/** Head rows [categoryIds…, last] sliced out of a pretrained head [R, D] / [R]. */
function cocoRowsHead(
  spec: TensorSpec,
  t: SafeTensor,
  ids: readonly number[],
  where: string,
): { value: tf.Tensor; rows: number[] } {
  const r = t.shape[0];
  const rows = [...ids, r - 1];
  const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= r - 1);
  if (bad !== undefined)
    throw new UserError(
      `${where}: --head-init coco-rows: category id ${bad} has no row in the pretrained head (${r - 1} class rows + no-object)`,
    );
  const value = tf.tidy(() =>
    fromHf(
      tf.gather(tf.tensor(finiteValues(spec.name, t, where), t.shape), tf.tensor1d(rows, 'int32'), 0),
      spec.layout,
    ),
  );
  return { value, rows };
}

/** HF `_init_weights` for a Linear: weight N(0, std), bias 0 (in our layout). */
function hfLinearInit(spec: TensorSpec, std: number, rng: Rng): tf.Tensor {
  return initValues({ ...spec, init: spec.name.endsWith('.bias') ? { kind: 'zeros' } : { kind: 'normal', std } }, rng);
}

function checkStrict(report: LoadReport, where: string): void {
  const list = (xs: string[]) => xs.slice(0, 8).join(', ') + (xs.length > 8 ? `, … (${xs.length} in all)` : '');
  if (report.shapeMismatch.length) {
    throw new UserError(
      `${where}: shape mismatch for ${list(report.shapeMismatch.map((m) => `${m.name} [${m.checkpoint}] vs model [${m.model}]`))}; is this checkpoint for another architecture?`,
    );
  }
  if (report.missing.length)
    throw new UserError(
      `${where}: ${report.missing.length} model tensors missing from the checkpoint: ${list(report.missing)}`,
    );
}

/** Loads a checkpoint into `store` by HF name. Tensors not loaded get a fresh init if the store lacks them. */
export function loadCheckpoint(store: ParamStore, file: SafeTensorsFile | string, opts: LoadOptions): LoadReport {
  const where = typeof file === 'string' ? file : (opts.source ?? 'checkpoint');
  const raw = typeof file === 'string' ? readSafetensors(file) : file;
  const ckpt = { ...raw, tensors: withDetrlabBackboneNames(raw.tensors) }; // transformers ResNetBackbone names → ours
  const report: LoadReport = {
    loaded: 0,
    missing: [],
    unexpected: [...ckpt.tensors.keys()].filter((n) => !store.specs.has(n)),
    reinitialised: [],
    shapeMismatch: [],
  };
  const pending = new Map<string, tf.Tensor>();
  try {
    for (const spec of store.specs.values()) {
      const t = ckpt.tensors.get(spec.name);
      if (!t) {
        report.missing.push(spec.name);
        continue;
      }
      if (t.shape.join() === spec.hfShape.join()) {
        pending.set(spec.name, tensorFor(spec, t, where));
        continue;
      }
      if (!(CLASS_HEAD as readonly string[]).includes(spec.name)) {
        report.shapeMismatch.push({ name: spec.name, checkpoint: t.shape, model: spec.hfShape });
        continue;
      }
      if (opts.headInit === 'coco-rows') {
        if (!opts.categoryIds)
          throw new UserError('--head-init coco-rows needs the category id of every label (a label map)');
        const { value, rows } = cocoRowsHead(spec, t, opts.categoryIds, where);
        pending.set(spec.name, value);
        report.headRows = rows;
      } else {
        pending.set(spec.name, hfLinearInit(spec, opts.initStd ?? 0.02, opts.rng));
        report.reinitialised.push(spec.name);
      }
    }
    if (opts.strict !== false) checkStrict(report, where);
  } catch (e) {
    tf.dispose([...pending.values()]);
    throw e;
  }
  for (const [name, value] of pending) store.set(name, value, true);
  for (const spec of store.specs.values())
    if (!store.has(spec.name)) store.set(spec.name, initValues(spec, opts.rng), true);
  report.loaded = pending.size - report.reinitialised.length;
  return report;
}

/** Tensor values (tfjs layout, by HF name) → PyTorch layout for a checkpoint (F32, or F16 to halve the file). */
export function hfTensors(
  specs: Iterable<TensorSpec>,
  values: Map<string, Float32Array>,
  dtype: 'F32' | 'F16' = 'F32',
): Map<string, TensorToWrite> {
  const out = new Map<string, TensorToWrite>();
  for (const spec of specs) {
    const v = values.get(spec.name);
    if (!v) throw new Error(`checkpoint: no value for ${spec.name}`);
    out.set(spec.name, { dtype, shape: spec.hfShape, data: permuteLayout(v, spec.hfShape, spec.layout, 'toHf') });
  }
  return out;
}

/** Every tensor of the store in PyTorch layout, by HF name (reads synchronously: CPU-side backends). */
export function checkpointTensors(store: ParamStore, dtype: 'F32' | 'F16' = 'F32'): Map<string, TensorToWrite> {
  const values = new Map([...store.specs.keys()].map((n) => [n, store.get(n).dataSync() as Float32Array]));
  return hfTensors(store.specs.values(), values, dtype);
}

/**
 * Writes `<dir>/model.safetensors` and `<dir>/config.json` (each atomically) from tensor values (tfjs layout).
 * A backbone that is not a standard timm ResNet is written under transformers' `ResNetBackbone` names, to
 * match the `backbone_config` in config.json (hf_backbone.ts).
 */
export function writeDetrCheckpoint(
  dir: string,
  specs: Iterable<TensorSpec>,
  values: Map<string, Float32Array>,
  cfg: DetrConfig,
  labels: LabelInfo,
  dtype: 'F32' | 'F16' = 'F32',
): { weights: string; config: string } {
  const weights = path.join(dir, 'model.safetensors'),
    config = path.join(dir, 'config.json');
  let tensors = hfTensors(specs, values, dtype);
  if (usesHfResnetNames(cfg.backbone)) tensors = new Map([...tensors].map(([n, t]) => [toHfResnetName(n), t]));
  writeSafetensors(weights, tensors, { format: 'pt' });
  writeFileAtomic(config, hfConfigJson(cfg, labels));
  return { weights, config };
}

/** Writes `<dir>/model.safetensors` and `<dir>/config.json` (each atomically). */
export function saveCheckpoint(
  dir: string,
  store: ParamStore,
  cfg: DetrConfig,
  labels: LabelInfo,
  dtype: 'F32' | 'F16' = 'F32',
): { weights: string; config: string } {
  const values = new Map([...store.specs.keys()].map((n) => [n, store.get(n).dataSync() as Float32Array]));
  return writeDetrCheckpoint(dir, store.specs.values(), values, cfg, labels, dtype);
}
