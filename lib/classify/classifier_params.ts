/**
 * Parameters of `detrlab train-classifier` and `detrlab ablation` (notebook 09). Defaults are the demo
 * profile: 64-px crops, the demo DETR's backbone (ResNet-18, width 32) with stem and layer1 frozen,
 * 3 epochs. Measured on the demo crops (4,773 train, 893 val): the ablation's two runs cost about 315
 * CPU-seconds, about 3 minutes on 2 free cores with the runs side by side (workers: 2); each run trains
 * at about 90 crops per CPU-second all included (wasm). The coco profile's overrides live in lib/pipeline/profiles.ts ('09').
 */
import { BACKEND_CHAIN, BackendChoice } from '../engine/backend.js';
import { DETR_PRESETS, DetrPreset } from '../detr/config.js';
import { bool, int, num, numList, oneOf, resolveParams, Schema, str } from '../params/schema.js';
import { COCO_BACKBONE_WEIGHTS } from './backbone_weights.js';
import { DEMO_DETR_WEIGHTS } from '../detr/pretrained.js';
import type { StageOverrides } from '../params/overrides.js';

/** What one training run needs (both commands share these). */
export interface ClassifierTrainParams {
  crops: string;
  backboneWeights: string;
  arch: DetrPreset;
  freezeBackbone: boolean;
  trainableFrom: 'layer2' | 'all';
  batchNorm: 'frozen' | 'train';
  epochs: number;
  lr: number;
  lrBackbone: number;
  weightDecay: number;
  batchSize: number;
  imageSize: number;
  minScale: number;
  jitter: number;
  maxPerClass: number;
  rarePerClass: number;
  seed: number;
  backend: BackendChoice;
  cacheMb: number;
}

export interface ClassifierParams extends ClassifierTrainParams {
  synth: string;
  outputDir: string;
  saveWeights: boolean;
}
export interface AblationParams extends Omit<ClassifierTrainParams, 'seed'> {
  synth: string;
  outputDir: string;
  seeds: number[];
  workers: number;
  gridPerClass: number;
}

const TRAIN_SCHEMA: Schema<ClassifierTrainParams> = {
  crops: str('data/crops', 'crops folder written by `detrlab crops` (manifest.jsonl, classes.json)'),
  backboneWeights: str(
    DEMO_DETR_WEIGHTS,
    `DETR checkpoint whose backbone initialises the classifier: a model.safetensors (config.json beside it), a hub repo (${COCO_BACKBONE_WEIGHTS}), or none (random init)`,
  ),
  arch: oneOf<DetrPreset>(
    Object.keys(DETR_PRESETS) as DetrPreset[],
    'demo',
    "backbone architecture for --backbone-weights none (otherwise the checkpoint's config.json decides)",
  ),
  freezeBackbone: bool(false, 'train only the new head (the backbone stays as loaded)'),
  trainableFrom: oneOf<'layer2' | 'all'>(
    ['layer2', 'all'],
    'layer2',
    "backbone layers that fine-tune: layer2 = DETR's rule (stem and layer1 stay frozen; about 2× faster on CPU), all (a random-init backbone always trains all)",
  ),
  batchNorm: oneOf<'frozen' | 'train'>(
    ['frozen', 'train'],
    'frozen',
    "batch norm: frozen (DETR's, with the running statistics) or train (batch statistics, γ/β trained, running statistics updated with momentum 0.1, as torch.nn.BatchNorm2d): for pre-training a backbone that DETR then freezes",
  ),
  epochs: int(3, 'epochs over the training crops (coco profile: 10)', { min: 1 }),
  lr: num(1e-3, 'AdamW learning rate of the new head (cosine decay to 0 over the run)', { min: 0 }),
  lrBackbone: num(1e-4, 'AdamW learning rate of the backbone (same schedule)', { min: 0 }),
  weightDecay: num(1e-4, 'AdamW decoupled weight decay (both groups)', { min: 0 }),
  batchSize: int(32, 'crops per step', { min: 1 }),
  imageSize: int(64, 'input side in pixels (coco profile: 224)', { min: 16, max: 1024 }),
  minScale: num(0.35, 'RandomResizedCrop: smallest crop area as a fraction of the square crop', { min: 0.01, max: 1 }),
  jitter: num(0.2, 'ColorJitter strength for brightness, contrast and saturation (0 = off)', { min: 0, max: 1 }),
  maxPerClass: int(0, 'at most this many real train crops per class, chosen with the seed (0 = all)', { min: 0 }),
  rarePerClass: int(
    0,
    'at most this many real train crops per RARE class (classes.json "rare"), chosen with the seed: the low-data setting of the ablation (0 = all)',
    { min: 0 },
  ),
  seed: int(0, 'seed: model init, sample order, augmentation'),
  backend: oneOf<BackendChoice>(['auto', ...BACKEND_CHAIN], 'auto', 'tfjs backend'),
  cacheMb: int(1024, 'decoded images kept in memory (MB); beyond it images are decoded again each epoch', { min: 0 }),
};

export const CLASSIFIER_SCHEMA: Schema<ClassifierParams> = {
  ...TRAIN_SCHEMA,
  synth: str(
    '',
    'synthetic images folder (metadata.jsonl); its rare-class images join the training set (empty = real crops only)',
  ),
  outputDir: str('runs/classifier', 'run folder (config.json, log.jsonl, metrics.json)'),
  saveWeights: bool(
    false,
    'also write the final weights to <output-dir>/model.safetensors (backbone tensors by their DETR names; `detrlab train --backbone-init` starts a DETR from them)',
  ),
};

const { seed: _seed, ...ABLATION_BASE } = TRAIN_SCHEMA;
export const ABLATION_SCHEMA: Schema<AblationParams> = {
  ...ABLATION_BASE,
  synth: str('data/synth', 'synthetic images folder written by `detrlab synth` (metadata.jsonl)'),
  outputDir: str('runs/ablation', 'output folder: real/, real_synth/, ablation.md, ablation.json, charts'),
  // measured on the demo crops (seed 0, 3 epochs): with 15 real crops per rare class the real-only run reaches
  // rare-class accuracy 0.23 (motorcycle 0.00, train 0.16, fire hydrant 0.50) against 0.86–0.98 for the others
  rarePerClass: int(
    15,
    'at most this many real train crops per RARE class, chosen with the seed: the low-data setting in which synthetic images can matter (0 = all)',
    { min: 0 },
  ),
  seeds: numList([0], 'seeds; each seed trains both runs (several seeds: mean ± std and a 95 % interval of Δ)'),
  workers: int(
    2,
    'runs trained at the same time, each in its own worker thread, on the wasm/cpu backends (GPU and tfjs-node: one after another; 1 = always one after another)',
    { min: 1, max: 64 },
  ),
  gridPerClass: int(4, 'synthetic and real examples per rare class in the example grid', { min: 1 }),
};

export const resolveClassifierParams = (p: Partial<ClassifierParams> = {}): ClassifierParams =>
  resolveParams(CLASSIFIER_SCHEMA, p);
export const resolveAblationParams = (p: StageOverrides<AblationParams> = {}): AblationParams =>
  resolveParams(ABLATION_SCHEMA, p);
