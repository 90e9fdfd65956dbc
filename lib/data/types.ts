/**
 * The data layer's plain types. Dims: B batch, H×W padded batch size, h×w one image's size, T targets.
 * Boxes inside the pipeline are absolute xyxy pixels; the batch carries DETR's normalised cxcywh.
 */
import { Box } from '../box/box_ops.js';

/** An 8-bit RGB image, rows top to bottom, HWC interleaved: data.length = h·w·3. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Targets of one image while transforms run: absolute xyxy boxes, contiguous labels, areas. */
export interface BoxTargets {
  boxesXyxy: Box[];
  labels: number[];
  areas: number[];
}

/** One image and its targets, as the transforms see it. */
export interface Sample {
  image: RgbImage;
  targets: BoxTargets;
}

/**
 * What the model trains on for one image (structurally a `DetrTarget` of lib/detr/matcher.ts):
 * labels 0..K-1 and boxes cxcywh normalised by the image's resized, UNPADDED size (original DETR;
 * facebookresearch/detr `datasets/transforms.py` `resize`/`normalize`), crowd regions removed. Sizes are [h, w].
 */
export interface ImageTarget {
  imageId: number;
  labels: number[];
  boxesCxcywh: Box[];
  /** Box areas in resized pixels (DETR recomputes them after a crop). */
  areas: number[];
  /** [h, w] of the original image (what COCO evaluation boxes are relative to). */
  origSize: [number, number];
  /** [h, w] after resize/crop, before padding. */
  size: [number, number];
}

/** A padded batch (structurally a `TrainBatch` of lib/train/batch.ts). */
export interface DetrBatch {
  /** [B, H, W, 3] NHWC float32: (v/255 − mean)/std, 0 in the padding (bottom/right). */
  pixels: Float32Array;
  /** [B, H, W] 1 = real pixel, 0 = padding. */
  mask: Uint8Array;
  /** [B, H, W]. */
  shape: [number, number, number];
  targets: ImageTarget[];
  imageIds: number[];
}
