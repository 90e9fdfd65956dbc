/**
 * What the model stages (`eval`, `visualize`, `error-analysis`) read, in one place: the run's checkpoint
 * (checked against the data root's label map), the split and its COCO ground truth, the val resize the
 * run trained with, and a predictor over one or more worker threads.
 *
 *   const inputs = await openModelInputs(p);            // p: ModelInputParams (the shared flags)
 *   try { … inputs.predictor.predict(batch) … } finally { await inputs.predictor.dispose(); }
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CocoDataset } from '../coco/types.js';
import { annotationFile, LabelMap } from '../coco/subset_types.js';
import { AugmentConfig, DEMO_AUGMENT, DETR_AUGMENT } from '../data/augment.js';
import { DetectionSplit, loadDetectionSplit } from '../data/dataset.js';
import { DetrLoader } from '../data/loader.js';
import { loadDetr } from '../detr/pretrained.js';
import { LabelInfo } from '../detr/hf_config.js';
import { BACKEND_CHAIN, BackendChoice, EngineInfo, initEngine } from '../engine/backend.js';
import { Rng } from '../engine/rng.js';
import { defaultWorkers } from '../engine/workers.js';
import { readJson, recoverDir } from '../io/atomic.js';
import { int, oneOf, str, Schema, bool } from '../params/schema.js';
import { UserError } from '../params/user_error.js';
import { openPredictor } from '../predict/thread_predictor.js';
import type { OwnedPredictor } from '../predict/prediction.js';
import { readCocoDataset } from '../cocoeval/results_io.js';
import { readRunRecord } from '../io/run_record.js';

/** The flags every model stage shares. */
export interface ModelInputParams {
  run: string;
  checkpoint: string;
  dataRoot: string;
  split: string;
  workers: number;
  backend: BackendChoice;
  batchSize: number;
  valSize: number;
  maxSize: number;
  quiet: boolean;
}

export const MODEL_INPUT_SCHEMA: Schema<ModelInputParams> = {
  run: str('runs/detr_demo', 'run folder (checkpoints/, metrics/, viz/, analysis/)'),
  checkpoint: str(
    'best',
    "'best', 'last', or a path to a checkpoint folder or model.safetensors (config.json beside it)",
  ),
  dataRoot: str(
    '',
    "subset root (label_map.json, annotations); default: the data root recorded in the run's config.json, else data/demo_subset",
  ),
  split: str('val', 'split to evaluate'),
  workers: int(0, 'inference worker threads (0 = one per core on wasm/cpu, 1 on native/GPU backends)', {
    min: 0,
    max: 64,
  }),
  backend: oneOf<BackendChoice>(['auto', ...BACKEND_CHAIN], 'auto', 'tfjs backend'),
  batchSize: int(4, 'images per forward pass (split across workers)', { min: 1 }),
  valSize: int(0, "shortest side at inference (0 = the run's config.json, else 800; the demo preset uses 128)", {
    min: 0,
  }),
  maxSize: int(0, "longest side cap (0 = the run's config.json, else 1333)", { min: 0 }),
  quiet: bool(false, 'no progress bars'),
};

export type { StageOverrides } from '../params/overrides.js';

export interface Fingerprint {
  path: string;
  bytes: number;
  mtimeMs: number;
}
export interface CheckpointRef {
  weights: string;
  fingerprint: Fingerprint;
}

function available(run: string): string {
  const dir = path.join(run, 'checkpoints');
  const names = fs.existsSync(dir)
    ? fs.readdirSync(dir).filter((n) => fs.existsSync(path.join(dir, n, 'model.safetensors')))
    : [];
  return names.length ? `available: ${names.join(', ')}` : 'it has no checkpoints yet (train first: detrlab train)';
}

/** 'best' | 'last' → `<run>/checkpoints/<name>/model.safetensors`; a folder or file path as given. */
export function resolveCheckpoint(run: string, checkpoint: string): CheckpointRef {
  let weights: string;
  if (checkpoint === 'best' || checkpoint === 'last') {
    if (!fs.existsSync(run)) throw new UserError(`run folder ${run} does not exist`);
    const dir = path.join(run, 'checkpoints', checkpoint);
    recoverDir(dir);
    weights = path.join(dir, 'model.safetensors');
    if (!fs.existsSync(weights))
      throw new UserError(`${run} has no checkpoints/${checkpoint}/model.safetensors; ${available(run)}`);
  } else {
    weights =
      fs.existsSync(checkpoint) && fs.statSync(checkpoint).isDirectory()
        ? path.join(checkpoint, 'model.safetensors')
        : checkpoint;
    if (!fs.existsSync(weights)) throw new UserError(`--checkpoint ${checkpoint}: ${weights} does not exist`);
  }
  const st = fs.statSync(weights);
  return {
    weights: path.resolve(weights),
    fingerprint: { path: path.resolve(weights), bytes: st.size, mtimeMs: st.mtimeMs },
  };
}

/** UserError unless the checkpoint's classes are the label map's (count, COCO ids, names when known). */
export function checkLabels(
  numClasses: number,
  labels: LabelInfo | undefined,
  labelMap: LabelMap,
  where: string,
): void {
  const list = (xs: readonly unknown[]) => `[${xs.slice(0, 12).join(', ')}${xs.length > 12 ? ', …' : ''}]`;
  const hint = 'evaluate with the data root the run was trained on';
  if (numClasses !== labelMap.classes.length) {
    throw new UserError(
      `${where}: the model has ${numClasses} classes but the label map has ${labelMap.classes.length} ${list(labelMap.classes)}; ${hint}`,
    );
  }
  if (labels?.categoryIds && labels.categoryIds.join() !== labelMap.categoryIds.join()) {
    throw new UserError(
      `${where}: the model's category ids ${list(labels.categoryIds)} differ from the label map's ${list(labelMap.categoryIds)}; ${hint}`,
    );
  }
  if (labels?.names.length === numClasses && labels.names.join('\n') !== labelMap.classes.join('\n')) {
    throw new UserError(
      `${where}: the model's classes ${list(labels.names)} differ from the label map's ${list(labelMap.classes)}; ${hint}`,
    );
  }
}

/** The split's COCO ground truth (`<root>/annotations/instances_<split>2017.json`). */
export function readSplitGroundTruth(root: string, split: string): CocoDataset {
  const file = path.join(root, annotationFile(split));
  if (!fs.existsSync(file)) throw new UserError(`no '${split}' annotations in ${root} (expected ${file})`);
  return readCocoDataset(file);
}

/** The split restricted to its first `n` images by ascending id (0 = all, still sorted by id). */
export function firstImages(split: DetectionSplit, n: number): DetectionSplit {
  const records = [...split.records].sort((a, b) => a.imageId - b.imageId);
  return { ...split, records: n > 0 ? records.slice(0, n) : records };
}

/** A key of the run's config.json, at the top level or one object down (`{ params: { valSize } }`). */
function runSetting(config: Record<string, unknown> | undefined, key: string): unknown {
  if (!config) return undefined;
  if (key in config) return config[key];
  for (const v of Object.values(config))
    if (v && typeof v === 'object' && !Array.isArray(v) && key in v) return (v as Record<string, unknown>)[key];
  return undefined;
}

const positive = (v: unknown): number | undefined => (typeof v === 'number' && v > 0 ? v : undefined);

/** The resize the run validated with: config.json's resolved `augment` object, else its preset name and sizes, else DETR's. */
function trainedAugment(cfg: Record<string, unknown> | undefined): AugmentConfig {
  const top = cfg?.augment;
  if (top && typeof top === 'object' && positive((top as AugmentConfig).valSize))
    return { ...DETR_AUGMENT, ...(top as Partial<AugmentConfig>) };
  const preset =
    (typeof top === 'string' ? top : runSetting(cfg?.params as Record<string, unknown> | undefined, 'augment')) ===
    'demo'
      ? DEMO_AUGMENT
      : DETR_AUGMENT;
  return {
    ...preset,
    valSize: positive(runSetting(cfg, 'valSize')) ?? preset.valSize,
    maxSize: positive(runSetting(cfg, 'maxSize')) ?? preset.maxSize,
  };
}

/** `dataRoot` as given, else the one the run recorded (run_record.json; older runs: config.json), else the demo subset. */
export function withRunDataRoot<P extends { run: string; dataRoot: string }>(p: P): P {
  if (p.dataRoot) return p;
  const record = readRunRecord(p.run);
  if (record) return { ...p, dataRoot: record.dataRoot };
  const file = path.join(p.run, 'config.json'); // a run written before run_record.json existed
  const recorded = fs.existsSync(file) ? runSetting(readJson<Record<string, unknown>>(file), 'dataRoot') : undefined;
  return { ...p, dataRoot: typeof recorded === 'string' && recorded ? recorded : 'data/demo_subset' };
}

/** The val resize: flags, else what the run validated with (run_record.json; older runs: config.json), else DETR's 800/1333. */
export function valAugment(run: string, p: Pick<ModelInputParams, 'valSize' | 'maxSize'>): AugmentConfig {
  const file = path.join(run, 'config.json');
  const base =
    readRunRecord(run)?.augment ?? // older runs: what their config.json says
    trainedAugment(fs.existsSync(file) ? readJson<Record<string, unknown>>(file) : undefined);
  return { ...base, valSize: p.valSize || base.valSize, maxSize: p.maxSize || base.maxSize };
}

export interface ModelInputs {
  engine: EngineInfo;
  split: DetectionSplit;
  gt: CocoDataset;
  checkpoint: CheckpointRef;
  augment: AugmentConfig;
  predictor: OwnedPredictor;
}

/** Engine, split, ground truth and a predictor for the run's checkpoint. Dispose `predictor` after. */
export async function openModelInputs(p: ModelInputParams): Promise<ModelInputs> {
  const checkpoint = resolveCheckpoint(p.run, p.checkpoint);
  const split = await loadDetectionSplit(p.dataRoot, p.split);
  const gt = readSplitGroundTruth(p.dataRoot, p.split);
  const augment = valAugment(p.run, p); // reads the run's config.json: before any worker thread exists
  const engine = await initEngine({ backend: p.backend, log: p.quiet ? null : undefined });
  const { model, labels } = await loadDetr({ weights: checkpoint.weights, rng: new Rng(0) });
  try {
    checkLabels(model.cfg.numClasses, labels, split.labelMap, checkpoint.weights);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const predictor = await openPredictor(model, { workers: defaultWorkers(p.workers, engine), backend: engine.backend });
  return { engine, split, gt, checkpoint, augment, predictor };
}

/** A deterministic val loader over `split` (no augmentation, file order). */
export const evalLoader = (split: DetectionSplit, augment: AugmentConfig, batchSize: number): DetrLoader =>
  new DetrLoader(split, { batchSize, train: false, augment });
