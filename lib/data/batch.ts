/**
 * Normalise and pad a list of transformed images into one batch, as DetrImageProcessor does
 * (transformers `image_processing_detr.py`: `rescale`, `normalize`, `pad`): rescale 1/255, subtract the ImageNet
 * mean, divide by the std, pad bottom/right with 0 to the largest H×W of the batch, pixel mask 1 on real pixels. Boxes become cxcywh normalised by each
 * image's unpadded size (original DETR; not HF's padded-canvas variant, PR #28363).
 */
import { Box } from '../box/box_ops.js';
import { DetrBatch, ImageTarget, RgbImage, BoxTargets } from './types.js';

export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

export interface NormalizeConfig {
  mean: [number, number, number];
  std: [number, number, number];
  rescale: number;
}
export const DETR_NORMALIZE: NormalizeConfig = { mean: IMAGENET_MEAN, std: IMAGENET_STD, rescale: 1 / 255 };

/** Per channel, the normalised value of each byte 0..255 (float64 math, stored as float32). */
function lookupTables(n: NormalizeConfig): Float32Array[] {
  return [0, 1, 2].map((c) => Float32Array.from({ length: 256 }, (_, v) => (v * n.rescale - n.mean[c]) / n.std[c]));
}

/** xyxy absolute → cxcywh normalised by (w, h). */
export const toCxcywhNorm = ([x0, y0, x1, y1]: Box, w: number, h: number): Box => [
  (x0 + x1) / 2 / w,
  (y0 + y1) / 2 / h,
  (x1 - x0) / w,
  (y1 - y0) / h,
];

export interface Prepared {
  imageId: number;
  image: RgbImage;
  targets: BoxTargets;
  origSize: [number, number];
}

export function imageTarget(p: Prepared): ImageTarget {
  const { width: w, height: h } = p.image;
  return {
    imageId: p.imageId,
    labels: [...p.targets.labels],
    boxesCxcywh: p.targets.boxesXyxy.map((b) => toCxcywhNorm(b, w, h)),
    areas: [...p.targets.areas],
    origSize: p.origSize,
    size: [h, w],
  };
}

export function collate(items: Prepared[], norm: NormalizeConfig = DETR_NORMALIZE): DetrBatch {
  const B = items.length;
  const H = Math.max(...items.map((p) => p.image.height));
  const W = Math.max(...items.map((p) => p.image.width));
  const pixels = new Float32Array(B * H * W * 3); // [B, H, W, 3], padding stays 0
  const mask = new Uint8Array(B * H * W); // [B, H, W], padding stays 0
  const [l0, l1, l2] = lookupTables(norm);
  items.forEach(({ image: { data, width: w, height: h } }, b) => {
    for (let y = 0; y < h; y++) {
      let src = y * w * 3;
      let dst = (b * H + y) * W * 3;
      for (let x = 0; x < w; x++, src += 3, dst += 3) {
        pixels[dst] = l0[data[src]];
        pixels[dst + 1] = l1[data[src + 1]];
        pixels[dst + 2] = l2[data[src + 2]];
      }
      mask.fill(1, (b * H + y) * W, (b * H + y) * W + w);
    }
  });
  return { pixels, mask, shape: [B, H, W], targets: items.map(imageTarget), imageIds: items.map((p) => p.imageId) };
}
