/**
 * DETR's image geometry on RgbImage + box targets: horizontal flip, resize with
 * `get_size_with_aspect_ratio`, crop. Semantics of facebookresearch/detr `datasets/transforms.py`
 * (`hflip`, `resize`, `crop`); pixels are resampled by libvips' linear kernel (sharp), which, like PIL's
 * BILINEAR used there, widens its support when shrinking (antialiased).
 */
import sharp from 'sharp';
import { Box } from '../box/box_ops.js';
import { BoxTargets, RgbImage, Sample } from './types.js';

/** Python 3's round(): halves go to the even neighbour. */
export function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/**
 * DETR `get_size_with_aspect_ratio((w, h), size, max_size)` → [oh, ow]: the shorter side becomes `size`
 * unless the longer would exceed `maxSize` (then size = round(maxSize·min/max), Python rounding); the
 * longer side is int(size·long/short), truncated.
 */
export function getSizeWithAspectRatio(w: number, h: number, size: number, maxSize?: number): [number, number] {
  if (maxSize !== undefined) {
    const lo = Math.min(w, h),
      hi = Math.max(w, h);
    if ((hi / lo) * size > maxSize) size = Math.trunc(pyRound((maxSize * lo) / hi));
  }
  if ((w <= h && w === size) || (h <= w && h === size)) return [h, w];
  return w < h ? [Math.trunc((size * h) / w), size] : [size, Math.trunc((size * w) / h)];
}

/** Mirror left↔right. */
export function flipRgb(im: RgbImage): RgbImage {
  const { width: w, height: h, data } = im;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    const row = y * w * 3;
    for (let x = 0; x < w; x++) {
      const s = row + x * 3,
        d = row + (w - 1 - x) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { data: out, width: w, height: h };
}

/** The region rows [top, top+h), cols [left, left+w) (must lie inside the image). */
export function cropRgb(im: RgbImage, top: number, left: number, h: number, w: number): RgbImage {
  const out = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++)
    out.set(im.data.subarray(((top + y) * im.width + left) * 3, ((top + y) * im.width + left + w) * 3), y * w * 3);
  return { data: out, width: w, height: h };
}

export async function resizeRgb(im: RgbImage, w: number, h: number): Promise<RgbImage> {
  if (w === im.width && h === im.height) return im;
  const data = await sharp(im.data, { raw: { width: im.width, height: im.height, channels: 3 } })
    .resize(w, h, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return { data, width: w, height: h };
}

const mapTargets = (t: BoxTargets, f: (b: Box) => Box, area: (a: number, b: Box) => number): BoxTargets => {
  const boxesXyxy = t.boxesXyxy.map(f);
  return { boxesXyxy, labels: t.labels, areas: t.areas.map((a, i) => area(a, boxesXyxy[i])) };
};

/** DETR `hflip`: boxes [x0, y0, x1, y1] → [w − x1, y0, w − x0, y1]. */
export function hflip(s: Sample): Sample {
  const w = s.image.width;
  return {
    image: flipRgb(s.image),
    targets: mapTargets(
      s.targets,
      ([x0, y0, x1, y1]) => [w - x1, y0, w - x0, y1],
      (a) => a,
    ),
  };
}

/** DETR `resize(image, target, size, max_size)`: boxes scale by the width/height ratios, areas by both. */
export async function resize(s: Sample, size: number, maxSize?: number): Promise<Sample> {
  const [oh, ow] = getSizeWithAspectRatio(s.image.width, s.image.height, size, maxSize);
  const [rw, rh] = [ow / s.image.width, oh / s.image.height];
  const image = await resizeRgb(s.image, ow, oh);
  return {
    image,
    targets: mapTargets(
      s.targets,
      ([x0, y0, x1, y1]) => [x0 * rw, y0 * rh, x1 * rw, y1 * rh],
      (a) => a * rw * rh,
    ),
  };
}

/**
 * DETR `crop(image, target, (top, left, h, w))`: boxes shift, clip to the region, areas recomputed from
 * the clipped boxes, boxes with no width or height dropped.
 */
export function crop(s: Sample, top: number, left: number, h: number, w: number): Sample {
  const image = cropRgb(s.image, top, left, h, w);
  const clip = (v: number, hi: number) => Math.max(0, Math.min(v, hi));
  const out: BoxTargets = { boxesXyxy: [], labels: [], areas: [] };
  s.targets.boxesXyxy.forEach(([x0, y0, x1, y1], i) => {
    const b: Box = [clip(x0 - left, w), clip(y0 - top, h), clip(x1 - left, w), clip(y1 - top, h)];
    if (b[2] > b[0] && b[3] > b[1]) {
      out.boxesXyxy.push(b);
      out.labels.push(s.targets.labels[i]);
      out.areas.push((b[2] - b[0]) * (b[3] - b[1]));
    }
  });
  return { image, targets: out };
}
