/**
 * DETR's train and val transforms (facebookresearch/detr `datasets/coco.py` `make_coco_transforms`):
 *
 *   train: RandomHorizontalFlip(0.5) → RandomSelect(p=0.5)(
 *            RandomResize(scales, max_size),
 *            RandomResize(cropResizeScales) → RandomSizeCrop(cropMin, cropMax) → RandomResize(scales, max_size))
 *   val:   RandomResize([valSize], max_size)   (deterministic)
 *
 * The sizes are parameters: COCO uses DETR's (480..800 step 32, max 1333, crop branch 400/500/600 and
 * 384..600); the demo uses the same recipe scaled to its 128-px images (DEMO_AUGMENT). DEMO_FLIP_AUGMENT keeps
 * only the flip (the demo images at their val size), the recipe of the PyTorch design experiments
 * (bench/reference/detr_train_demo.py), for comparing detrlab with them step for step.
 * Randomness comes from the Rng passed in (one per image and epoch, so results do not depend on
 * decode order or concurrency).
 */
import { Rng } from '../engine/rng.js';
import { crop, hflip, resize } from './geometry.js';
import { Sample } from './types.js';
import { UserError } from '../params/user_error.js';

export interface AugmentConfig {
  flipProb: number;
  /** Shortest-side sizes of the multi-scale resize. */
  scales: number[];
  /** Longest side cap. */
  maxSize: number;
  /** Probability of the plain multi-scale branch (else the crop branch). */
  selectProb: number;
  /** Shortest-side sizes before the random crop. */
  cropResizeScales: number[];
  cropMin: number;
  cropMax: number;
  /** Val / eval shortest side (with maxSize). */
  valSize: number;
}

const range = (lo: number, hi: number, step: number) =>
  Array.from({ length: Math.floor((hi - lo) / step) + 1 }, (_, i) => lo + i * step);

export const DETR_AUGMENT: AugmentConfig = {
  flipProb: 0.5,
  scales: range(480, 800, 32),
  maxSize: 1333,
  selectProb: 0.5,
  cropResizeScales: [400, 500, 600],
  cropMin: 384,
  cropMax: 600,
  valSize: 800,
};

/** DETR's recipe at 128/800 of the size (demo images are ~128 px): scales 80..128, crops 61..96. */
export const DEMO_AUGMENT: AugmentConfig = {
  flipProb: 0.5,
  scales: range(80, 128, 8),
  maxSize: 213,
  selectProb: 0.5,
  cropResizeScales: [64, 80, 96],
  cropMin: 61,
  cropMax: 96,
  valSize: 128,
};

/**
 * The demo sizes without the scale and crop jitter: horizontal flip (p 0.5), then the val resize (shortest side
 * 128, longest ≤ 213), i.e. the recipe of bench/reference/detr_train_demo.py (flip only, images near their
 * native 112–160 px).
 */
export const DEMO_FLIP_AUGMENT: AugmentConfig = {
  ...DEMO_AUGMENT,
  scales: [DEMO_AUGMENT.valSize],
  selectProb: 1,
};

/** torchvision `RandomCrop.get_params` after DETR `RandomSizeCrop`: a w×h region at a random offset. */
export function randomSizeCropRegion(
  rng: Rng,
  imgW: number,
  imgH: number,
  cropMin: number,
  cropMax: number,
): [number, number, number, number] {
  // DETR draws w in [min, min(W, max)]; when the image is smaller than cropMin (possible with custom
  // scales, never with DETR's) the region is the whole side rather than an error.
  const w = rng.int(Math.min(cropMin, imgW), Math.max(Math.min(cropMin, imgW), Math.min(imgW, cropMax)));
  const h = rng.int(Math.min(cropMin, imgH), Math.max(Math.min(cropMin, imgH), Math.min(imgH, cropMax)));
  return [rng.int(0, imgH - h), rng.int(0, imgW - w), h, w];
}

export async function trainTransform(s: Sample, cfg: AugmentConfig, rng: Rng): Promise<Sample> {
  if (rng.random() < cfg.flipProb) s = hflip(s);
  if (rng.random() < cfg.selectProb) return resize(s, rng.pick(cfg.scales), cfg.maxSize);
  s = await resize(s, rng.pick(cfg.cropResizeScales));
  const [top, left, h, w] = randomSizeCropRegion(rng, s.image.width, s.image.height, cfg.cropMin, cfg.cropMax);
  s = crop(s, top, left, h, w);
  return resize(s, rng.pick(cfg.scales), cfg.maxSize);
}

export const valTransform = (s: Sample, cfg: AugmentConfig): Promise<Sample> => resize(s, cfg.valSize, cfg.maxSize);

/** Named presets (parameters cells and CLI flags pick one by name). */
export const AUGMENT_NAMES = ['detr', 'demo', 'demo-flip'] as const;
export type AugmentName = (typeof AUGMENT_NAMES)[number];
export const AUGMENT_PRESETS: Record<AugmentName, AugmentConfig> = {
  detr: DETR_AUGMENT,
  demo: DEMO_AUGMENT,
  'demo-flip': DEMO_FLIP_AUGMENT,
};

/** The preset by name; an unknown name is a UserError listing the choices. */
export function augmentPreset(name: string): AugmentConfig {
  if (!(AUGMENT_NAMES as readonly string[]).includes(name))
    throw new UserError(`unknown augment preset '${name}'; choose ${AUGMENT_NAMES.join(', ')}`);
  return AUGMENT_PRESETS[name as AugmentName];
}
