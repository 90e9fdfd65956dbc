/**
 * Classifier transforms on plain arrays (no tensors), each the semantics of its torchvision reference:
 *   train: RandomResizedCrop(S, scale=(minScale, 1), ratio=(3/4, 4/3)) → RandomHorizontalFlip(0.5)
 *          → ColorJitter(brightness=j, contrast=j, saturation=j) → Normalize(ImageNet mean, std)
 *   val:   Resize((S, S)) of the whole square crop → Normalize
 * (The crops are already square boxes with context, so val keeps all of it rather than centre-cropping.)
 * Resampling is PIL's antialiased bilinear (libImaging Resample.c `precompute_coeffs`: a triangle filter
 * whose support widens by the scale when shrinking), which torchvision's antialiased bilinear resize matches.
 * Every random choice is drawn from the Rng passed in, so one (seed, epoch, sample) gives one result
 * whatever else is in the batch.
 */
import { Rng } from '../engine/rng.js';
import { pyRound } from '../data/geometry.js';
import type { RgbImage } from '../data/types.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../data/batch.js';
const RATIO: [number, number] = [3 / 4, 4 / 3];

export interface CropAugmentConfig {
  /** Output side S. */
  imageSize: number;
  /** Smallest crop area as a fraction of the image (torchvision default 0.08; crops of objects want more). */
  minScale: number;
  /** ColorJitter strength j: brightness, contrast and saturation factors in [1−j, 1+j]. */
  jitter: number;
}

/** A region [top, left, height, width] in pixels. */
export type Region = [number, number, number, number];
export type JitterOp = 'brightness' | 'contrast' | 'saturation';
export interface AugmentDraw {
  region: Region;
  flip: boolean;
  jitter: Array<{ op: JitterOp; factor: number }>;
}

/** torchvision `RandomResizedCrop.get_params`: 10 tries at a random area and log-uniform aspect ratio, else a centre crop. */
export function randomResizedCropRegion(rng: Rng, width: number, height: number, minScale: number): Region {
  const area = width * height;
  const [lr0, lr1] = [Math.log(RATIO[0]), Math.log(RATIO[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(minScale, 1);
    const ratio = Math.exp(rng.uniform(lr0, lr1));
    const w = pyRound(Math.sqrt(target * ratio)),
      h = pyRound(Math.sqrt(target / ratio));
    if (w > 0 && w <= width && h > 0 && h <= height) return [rng.int(0, height - h), rng.int(0, width - w), h, w];
  }
  const inRatio = width / height;
  let w = width,
    h = height;
  if (inRatio < RATIO[0]) h = pyRound(w / RATIO[0]);
  else if (inRatio > RATIO[1]) w = pyRound(h * RATIO[1]);
  return [Math.floor((height - h) / 2), Math.floor((width - w) / 2), h, w];
}

/** The random choices of one training sample (torchvision draw order: crop, flip, ColorJitter.get_params). */
export function drawAugment(rng: Rng, width: number, height: number, cfg: CropAugmentConfig): AugmentDraw {
  const region = randomResizedCropRegion(rng, width, height, cfg.minScale);
  const flip = rng.random() < 0.5;
  const ops: JitterOp[] = ['brightness', 'contrast', 'saturation'];
  const order = rng.permutation(ops.length);
  const factors = ops.map(() => rng.uniform(Math.max(0, 1 - cfg.jitter), 1 + cfg.jitter));
  return { region, flip, jitter: cfg.jitter > 0 ? order.map((i) => ({ op: ops[i], factor: factors[i] })) : [] };
}

/** PIL `precompute_coeffs` for one axis: per output index, the first input index and normalised weights. */
export function resampleCoeffs(
  inStart: number,
  inLen: number,
  inSize: number,
  outSize: number,
): Array<{ start: number; weights: Float64Array }> {
  const scale = inLen / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // bilinear support 1 × filterScale
  const out: Array<{ start: number; weights: Float64Array }> = [];
  for (let i = 0; i < outSize; i++) {
    const center = inStart + (i + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const w = new Float64Array(Math.max(hi - lo, 0));
    let sum = 0;
    for (let k = 0; k < w.length; k++) {
      w[k] = Math.max(0, 1 - Math.abs((lo + k - center + 0.5) / filterScale));
      sum += w[k];
    }
    if (sum > 0) for (let k = 0; k < w.length; k++) w[k] /= sum;
    out.push({ start: lo, weights: w });
  }
  return out;
}

/** The region of `im` resized to S×S, as floats in [0, 1] (HWC), optionally mirrored. */
export function resampleRegion(im: RgbImage, region: Region, size: number, flip = false): Float32Array {
  const [top, left, h, w] = region;
  const cx = resampleCoeffs(left, w, im.width, size),
    cy = resampleCoeffs(top, h, im.height, size);
  const yLo = cy[0].start,
    yHi = cy[size - 1].start + cy[size - 1].weights.length; // rows the vertical pass reads
  const tmp = new Float64Array(im.height * size * 3); // horizontal pass: [H, S, 3]
  for (let y = yLo; y < yHi; y++) {
    for (let x = 0; x < size; x++) {
      const { start, weights } = cx[x];
      let r = 0,
        g = 0,
        b = 0;
      for (let k = 0; k < weights.length; k++) {
        const s = (y * im.width + start + k) * 3;
        r += weights[k] * im.data[s];
        g += weights[k] * im.data[s + 1];
        b += weights[k] * im.data[s + 2];
      }
      const d = (y * size + (flip ? size - 1 - x : x)) * 3;
      tmp[d] = r;
      tmp[d + 1] = g;
      tmp[d + 2] = b;
    }
  }
  const out = new Float32Array(size * size * 3); // vertical pass: [S, S, 3]
  for (let y = 0; y < size; y++) {
    const { start, weights } = cy[y];
    for (let i = 0; i < size * 3; i++) {
      let v = 0;
      for (let k = 0; k < weights.length; k++) v += weights[k] * tmp[(start + k) * size * 3 + i];
      out[y * size * 3 + i] = Math.min(255, Math.max(0, v)) / 255;
    }
  }
  return out;
}

const gray = (px: Float32Array, i: number) => 0.2989 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2]; // torchvision rgb_to_grayscale

/** torchvision `adjust_brightness/contrast/saturation` on [0, 1] floats: a blend with black, the mean grey, or the pixel's grey, clamped. */
export function adjustColour(px: Float32Array, op: JitterOp, f: number): void {
  const blend = (i: number, other: number) => {
    px[i] = Math.min(1, Math.max(0, f * px[i] + (1 - f) * other));
  };
  if (op === 'brightness') {
    for (let i = 0; i < px.length; i++) blend(i, 0);
    return;
  }
  if (op === 'contrast') {
    let mean = 0;
    for (let i = 0; i < px.length; i += 3) mean += gray(px, i);
    mean /= px.length / 3;
    for (let i = 0; i < px.length; i++) blend(i, mean);
    return;
  }
  for (let i = 0; i < px.length; i += 3) {
    const g = gray(px, i);
    blend(i, g);
    blend(i + 1, g);
    blend(i + 2, g);
  }
}

/** (x − mean) / std per channel, written into `out` at `offset`. */
export function normaliseInto(px: Float32Array, out: Float32Array, offset: number): void {
  for (let i = 0; i < px.length; i++) out[offset + i] = (px[i] - IMAGENET_MEAN[i % 3]) / IMAGENET_STD[i % 3];
}

/** Train transform of one image (before normalisation). */
export function trainPixels(im: RgbImage, draw: AugmentDraw, size: number): Float32Array {
  const px = resampleRegion(im, draw.region, size, draw.flip);
  for (const j of draw.jitter) adjustColour(px, j.op, j.factor);
  return px;
}

/** Val transform of one image (before normalisation). */
export const valPixels = (im: RgbImage, size: number): Float32Array =>
  resampleRegion(im, [0, 0, im.height, im.width], size);
