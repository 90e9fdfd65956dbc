/**
 * What the model sees: one batch from the loader, un-normalised back to RGB, with its target boxes
 * (cxcywh relative to each unpadded image) drawn, padding visible as black.
 */
import { classColor, drawBoxes, OverlayBox } from '../viz/overlay.js';
import { contactSheet } from '../viz/contact_sheet.js';
import { DetrBatch, RgbImage } from './types.js';
import { DETR_NORMALIZE, NormalizeConfig } from './batch.js';
import { augmentPreset } from './augment.js';
import { loadDetectionSplit } from './dataset.js';
import { DetrLoader } from './loader.js';
import { UserError } from '../params/user_error.js';

/** Image `b` of a batch as 8-bit RGB of the padded size (inverse of the normalisation). */
export function batchImage(batch: DetrBatch, b: number, norm: NormalizeConfig = DETR_NORMALIZE): RgbImage {
  const [, H, W] = batch.shape;
  const data = new Uint8Array(H * W * 3);
  const base = b * H * W * 3;
  for (let i = 0; i < H * W; i++) {
    const real = batch.mask[b * H * W + i] === 1;
    for (let c = 0; c < 3; c++) {
      const v = real ? (batch.pixels[base + i * 3 + c] * norm.std[c] + norm.mean[c]) / norm.rescale : 0;
      data[i * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { data, width: W, height: H };
}

export async function batchPreview(
  batch: DetrBatch,
  classes: string[],
  o: { columns?: number; cellWidth?: number } = {},
): Promise<Buffer> {
  const cells = await Promise.all(
    batch.targets.map(async (t, b) => {
      const [h, w] = t.size;
      const boxes: OverlayBox[] = t.boxesCxcywh.map(([cx, cy, bw, bh], i) => ({
        bboxXywh: [(cx - bw / 2) * w, (cy - bh / 2) * h, bw * w, bh * h],
        color: classColor(t.labels[i]),
        text: classes[t.labels[i]],
      }));
      return {
        image: await drawBoxes(batchImage(batch, b), boxes, { maxSide: 320, fontSize: 11 }),
        caption: `image ${t.imageId} · ${w}×${h} in ${batch.shape[2]}×${batch.shape[1]}`,
      };
    }),
  );
  return contactSheet(cells, {
    columns: o.columns ?? 4,
    cellWidth: o.cellWidth ?? 240,
    title: `one training batch as the model sees it (augmented, padded; ${batch.shape.join('×')})`,
  });
}

export interface TrainBatchPreview {
  png: Buffer;
  summary: Record<string, number>;
}

/**
 * Notebook 02's look at the input pipeline: the first augmented training batch of a subset root and the
 * loader's counts (crowd regions removed, degenerate boxes dropped, images skipped).
 */
export async function previewTrainBatch(
  root: string,
  o: { augment?: string; batchSize?: number; seed?: number } = {},
): Promise<TrainBatchPreview> {
  const split = await loadDetectionSplit(root, 'train');
  const loader = new DetrLoader(split, {
    batchSize: o.batchSize ?? 8,
    train: true,
    augment: augmentPreset(o.augment ?? 'demo'),
    seed: o.seed ?? 0,
  });
  const first = (await loader.epoch(0).next()).value;
  if (!first)
    throw new UserError(`${root}: not enough readable training images for one batch of ${loader.cfg.batchSize}`);
  return { png: await batchPreview(first, split.labelMap.classes), summary: loader.summary() };
}
