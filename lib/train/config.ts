/**
 * `detrlab train` / notebook 03 parameters. Defaults are the seed's experiment (facebook/detr-resnet-50 on
 * the COCO subset: AdamW lr 1e-4, backbone 1e-5, wd 1e-4, batch 2, 10 epochs, clip 0.1); the demo
 * profile overrides data, model and sizes.
 */
import { bool, int, num, oneOf, str, Schema, resolveParams } from '../params/schema.js';
import { BACKEND_CHAIN, BackendChoice } from '../engine/backend.js';
import { UserError } from '../params/user_error.js';

export interface TrainParams {
  dataRoot: string;
  modelName: string;
  weights: string;
  outputDir: string;
  epochs: number;
  batchSize: number;
  lr: number;
  lrBackbone: number;
  weightDecay: number;
  clipMaxNorm: number;
  lrDrop: number;
  amp: boolean;
  resume: boolean;
  overwrite: boolean;
  allowChangedSettings: boolean;
  maxSteps: number;
  workers: number;
  seed: number;
  backend: BackendChoice;
  headInit: 'reinit' | 'coco-rows';
  augment: 'auto' | 'detr' | 'demo' | 'demo-flip';
  valSize: number;
  maxSize: number;
  evalEvery: number;
  evalBefore: boolean;
  valMaxImages: number;
  checkpointEvery: number;
  saveDtype: 'F32' | 'F16';
  traceSteps: number;
  traceStart: number;
  tbImages: number;
  cacheDir: string;
  numClasses: number;
  cocoIdLabels: boolean;
  auxLoss: boolean;
  backboneInit: string;
}

export const TRAIN_SCHEMA: Schema<TrainParams> = {
  dataRoot: str('data/demo_subset', 'subset root (annotations + label_map.json + subset.json)'),
  modelName: str(
    'demo',
    "Hugging Face repo id (e.g. facebook/detr-resnet-50), 'demo' (the committed demo DETR), or 'scratch:demo' / 'scratch:detr-resnet-50' (random init)",
  ),
  weights: str('', 'a local model.safetensors (with config.json beside it) instead of --model-name'),
  outputDir: str('runs/detr_demo', 'run folder (config, logs, TensorBoard, checkpoints, plots)'),
  epochs: int(10, 'epochs', { min: 1 }),
  batchSize: int(2, 'images per optimizer step (split across workers)', { min: 1 }),
  lr: num(1e-4, 'learning rate of the transformer and heads', { min: 0 }),
  lrBackbone: num(1e-5, 'learning rate of the backbone', { min: 0 }),
  weightDecay: num(1e-4, 'AdamW weight decay', { min: 0 }),
  clipMaxNorm: num(0.1, 'gradient clipping max norm (0 = off)', { min: 0 }),
  lrDrop: int(0, 'multiply the learning rates by 0.1 every N epochs (StepLR; 0 = never)', { min: 0 }),
  amp: bool(false, 'mixed precision: tfjs has no float16 training; recorded as requested-but-inactive'),
  resume: bool(false, 'continue the run in --output-dir from checkpoints/last'),
  overwrite: bool(false, 'start over in an --output-dir that already holds a run'),
  allowChangedSettings: bool(
    false,
    "with --resume: accept a seed, batch size, learning rates or data root other than the run's recorded ones",
  ),
  maxSteps: int(0, 'stop after N optimizer steps (smoke runs; every artifact is still written; 0 = no limit)', {
    min: 0,
  }),
  workers: int(0, 'data-parallel worker threads (0 = one per core on wasm/cpu, 1 on native/GPU backends)', {
    min: 0,
    max: 64,
  }),
  seed: int(42, 'seed of init, shuffling, augmentation and dropout'),
  backend: oneOf<BackendChoice>(['auto', ...BACKEND_CHAIN], 'auto', 'tfjs backend'),
  headInit: oneOf(
    ['reinit', 'coco-rows'] as const,
    'reinit',
    "class head when K differs: 'reinit' (HF ignore_mismatched_sizes) or 'coco-rows' (start from the pretrained rows of the chosen COCO ids)",
  ),
  augment: oneOf(
    ['auto', 'detr', 'demo', 'demo-flip'] as const,
    'auto',
    "train augmentation sizes: DETR's (480..800, max 1333), the demo's (80..128, max 213) or demo-flip (flip only, at the demo's 128); auto: demo for the demo model (demo, scratch:demo), else detr",
  ),
  valSize: int(0, 'val shortest side (0 = the augment preset: 800 detr, 128 demo)', { min: 0 }),
  maxSize: int(0, 'longest side cap (0 = the augment preset: 1333 detr, 213 demo)', { min: 0 }),
  evalEvery: int(1, 'evaluate on val every N epochs (0 = only at the end)', { min: 0 }),
  evalBefore: bool(
    true,
    'validate the starting model before the first step (epoch 0 of the results: the pre-trained figures)',
  ),
  valMaxImages: int(0, 'evaluate on the first N val images (0 = all)', { min: 0 }),
  checkpointEvery: int(0, 'also save checkpoints/last every N steps (0 = at epoch ends only)', { min: 0 }),
  saveDtype: oneOf(['F32', 'F16'] as const, 'F32', 'dtype of model.safetensors in checkpoints'),
  traceSteps: int(5, 'steps recorded in the profiler trace (0 = none)', { min: 0 }),
  traceStart: int(2, 'first traced step (after warm-up)', { min: 0 }),
  tbImages: int(4, 'val images with predictions logged to TensorBoard each evaluation', { min: 0 }),
  cacheDir: str('data/models/hf', 'Hugging Face download cache'),
  numClasses: int(0, 'classes (0 = from label_map.json)', { min: 0 }),
  backboneInit: str(
    '',
    "with --model-name scratch:…: a safetensors file whose backbone tensors (DETR names) start the model, e.g. `detrlab train-classifier --save-weights` (the demo's counterpart of an ImageNet backbone)",
  ),
  auxLoss: bool(true, 'auxiliary losses on every decoder layer (the DETR recipe; a hub config.json may say otherwise)'),
  cocoIdLabels: bool(
    false,
    'label = COCO category id with a max(91, id+1)-class head, as facebook/detr-resnet-50 (for pre-training on a whole COCO root)',
  ),
};

export function resolveTrain(overrides: object = {}): TrainParams {
  const p = resolveParams(TRAIN_SCHEMA, overrides);
  if (p.resume && p.overwrite) throw new UserError('--resume and --overwrite contradict each other');
  return p;
}

/** StepLR: the learning rates at `epoch` (DETR drops ×0.1 every lr_drop epochs). */
export function lrsAt(
  p: Pick<TrainParams, 'lr' | 'lrBackbone' | 'lrDrop'>,
  epoch: number,
): { lr: number; lrBackbone: number } {
  const f = p.lrDrop > 0 ? 0.1 ** Math.floor(epoch / p.lrDrop) : 1;
  return { lr: p.lr * f, lrBackbone: p.lrBackbone * f };
}
