/**
 * Model outputs → detections (transformers `image_processing_detr.py` `post_process_object_detection`,
 * facebookresearch/detr `models/detr.py` `PostProcess`): softmax over K+1, drop no-object, best class per query,
 * cxcywh → xyxy scaled by each
 * image's original size → absolute xywh; optional score threshold (keep score > threshold) and top-k.
 * Labels are contiguous 0..K−1 and become COCO `category_id`s only through the label map.
 * Dims: B batch, Q queries, K classes.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CocoResult } from '../coco/types.js';

export type { CocoResult };
import { Box, cxcywhToXyxy } from '../box/box_ops.js';

export interface Detection {
  imageId: number;
  label: number;
  categoryId: number;
  bboxXywhAbs: Box;
  score: number;
}
export interface ImageInfo {
  imageId: number;
  width: number;
  height: number;
}

export interface PostprocessOptions {
  /** Keep detections with score > threshold (default: keep all, as DETR's `PostProcess` for mAP). */
  threshold?: number;
  /** Keep the k best per image (default: all Q). */
  topK?: number;
}

/** Normalised cxcywh → absolute xywh: scale xyxy by [W, H, W, H], then width = x1 − x0. */
export function toAbsXywh(b: Box, width: number, height: number): Box {
  const [x0, y0, x1, y1] = cxcywhToXyxy(b);
  const [ax0, ay0, ax1, ay1] = [x0 * width, y0 * height, x1 * width, y1 * height];
  return [ax0, ay0, ax1 - ax0, ay1 - ay0];
}

/** Per image, detections sorted by score (descending). `categoryIds[label]` maps labels to COCO ids. */
export async function postprocess(
  logits: tf.Tensor3D,
  predBoxes: tf.Tensor3D,
  images: ImageInfo[],
  categoryIds: readonly number[],
  opts: PostprocessOptions = {},
): Promise<Detection[][]> {
  const [b, q, k1] = logits.shape;
  if (images.length !== b) throw new Error(`postprocess: ${images.length} image infos for a batch of ${b}`);
  if (categoryIds.length !== k1 - 1)
    throw new Error(`postprocess: label map has ${categoryIds.length} categories, the model ${k1 - 1}`);
  const prob = tf.tidy(() => tf.softmax(logits, -1)); // [B, Q, K+1]
  const p = await prob.data(),
    boxes = await predBoxes.data();
  prob.dispose();
  return images.map((img, i) => {
    const dets: Detection[] = [];
    for (let j = 0; j < q; j++) {
      const row = (i * q + j) * k1;
      let label = 0;
      for (let c = 1; c < k1 - 1; c++) if (p[row + c] > p[row + label]) label = c; // first max, no-object excluded
      const score = p[row + label];
      if (opts.threshold !== undefined && !(score > opts.threshold)) continue;
      const bx = Array.from(boxes.subarray((i * q + j) * 4, (i * q + j) * 4 + 4)) as Box;
      dets.push({
        imageId: img.imageId,
        label,
        categoryId: categoryIds[label],
        bboxXywhAbs: toAbsXywh(bx, img.width, img.height),
        score,
      });
    }
    dets.sort((a, c) => c.score - a.score);
    return opts.topK !== undefined ? dets.slice(0, opts.topK) : dets;
  });
}

/** Detections → COCO results records (what `loadRes` / `detrlab coco-eval --dt` read). */
export const toCocoResults = (dets: Detection[][]): CocoResult[] =>
  dets.flat().map((d) => ({ image_id: d.imageId, category_id: d.categoryId, bbox: d.bboxXywhAbs, score: d.score }));
