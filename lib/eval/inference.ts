/**
 * Running a detector over a split: padded batches from a DetrLoader → model outputs → COCO results at
 * each image's ORIGINAL size with the ORIGINAL category ids (facebookresearch/detr `models/detr.py`
 * `PostProcess` with `orig_target_sizes`; labels go through the label map, never used as ids) → COCOeval.
 * No file I/O here: the training loop calls `evaluateSplit` every epoch with its own trainer. The predictor
 * (in-process or worker threads) is predict/'s; nothing here depends on training.
 *
 *   const predictor = await openPredictor(model, { workers: 2, backend: 'wasm' });
 *   try {
 *     const r = await evaluateSplit(predictor, new DetrLoader(split, { batchSize: 4, train: false }), gt, { scoreThr: 0 });
 *     console.log(r.eval.statsByName.map, r.counts.imgPerS);
 *   } finally { await predictor.dispose(); }        // also disposes `model`
 *
 * Score threshold: `scoreThr ≤ 0` keeps every query (DETR's PostProcess for mAP applies none); a
 * positive value keeps detections with score > scoreThr (HF `post_process_object_detection`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CocoDataset, CocoResult } from '../coco/types.js';
import type { LabelMap } from '../coco/subset_types.js';
import type { DetrBatch } from '../data/types.js';
import type { DetrLoader } from '../data/loader.js';
import { postprocess, toCocoResults } from '../detr/postprocess.js';
import type { Predictor, Prediction } from '../predict/prediction.js';
import { progress } from '../viz/progress.js';
import { UserError } from '../params/user_error.js';
import { evaluateCoco, CocoEvalResult } from '../cocoeval/coco_eval.js';

export interface PredictOptions {
  /** Keep detections with score > scoreThr; ≤ 0 keeps all Q per image (use 0 for mAP). */
  scoreThr: number;
  /** Keep the k best per image (default: all queries). */
  topK?: number;
  /** Show a progress bar (default false: the training loop has its own). */
  progress?: boolean;
  /** Progress bar label. */
  label?: string;
  /** Erase the bar when done (an inner pass, e.g. validation inside training). */
  transient?: boolean;
}

export interface InferenceCounts {
  /** Images predicted, and images the loader skipped (missing/corrupt: they count as misses in `eval`). */
  images: number;
  imagesSkipped: number;
  detections: number;
  seconds: number;
  imgPerS: number;
}

export interface SplitEvaluation {
  results: CocoResult[];
  eval: CocoEvalResult;
  counts: InferenceCounts;
}

/** One batch's outputs → COCO results (score-sorted per image). Dims: B batch, Q queries, K classes. */
export async function batchResults(
  pred: Prediction,
  batch: DetrBatch,
  labelMap: LabelMap,
  opts: PredictOptions,
): Promise<CocoResult[]> {
  const [b, q, k1] = pred.shape;
  if (b !== batch.targets.length)
    throw new Error(`batchResults: a prediction for ${b} images, a batch of ${batch.targets.length}`);
  const images = batch.targets.map((t) => ({ imageId: t.imageId, width: t.origSize[1], height: t.origSize[0] }));
  const logits = tf.tensor3d(pred.logits, [b, q, k1]); // [B, Q, K+1]
  const boxes = tf.tensor3d(pred.boxes, [b, q, 4]); // [B, Q, 4] cxcywh in [0, 1]
  try {
    const threshold = opts.scoreThr > 0 ? opts.scoreThr : undefined;
    return toCocoResults(
      await postprocess(logits, boxes, images, labelMap.categoryIds, { threshold, topK: opts.topK }),
    );
  } finally {
    tf.dispose([logits, boxes]);
  }
}

/** A wasm heap overflow (4 GB per instance: 32-bit wasm addresses) becomes a UserError that says what to lower. */
function explainFailure(e: unknown, batch: DetrBatch): unknown {
  const msg = (e as Error)?.message ?? String(e);
  if (!/memory access out of bounds|Aborted|out of memory|enlarge memory/i.test(msg)) return e;
  const [b, h, w] = batch.shape;
  return new UserError(
    `inference failed on a batch of ${b} images padded to ${h}×${w} (${msg.split('\n')[0]}): the tensor backend ran out of memory ` +
      '(wasm: 4 GB per worker); lower --batch-size, or --val-size / --max-size, or use more --workers',
  );
}

/** Predicts every image of the loader's split (one deterministic val pass) → COCO results. */
export async function predictSplit(
  predictor: Predictor,
  loader: DetrLoader,
  labelMap: LabelMap,
  opts: PredictOptions,
): Promise<CocoResult[]> {
  if (loader.cfg.train)
    throw new Error('predictSplit: the loader must be built with train: false (no augmentation, file order)');
  const results: CocoResult[] = [];
  const bar = progress({
    total: loader.split.records.length,
    label: opts.label ?? 'predict',
    unit: 'img',
    quiet: !opts.progress,
    transient: opts.transient,
  });
  for await (const batch of loader.epoch(0)) {
    let batchOut: CocoResult[];
    try {
      batchOut = await batchResults(await predictor.predict(batch), batch, labelMap, opts);
    } catch (e) {
      throw explainFailure(e, batch);
    }
    for (const r of batchOut) results.push(r);
    bar.tick(batch.imageIds.length, { dets: results.length });
  }
  bar.done();
  return results;
}

/**
 * Predicts the loader's split and evaluates it with COCOeval over exactly the split's images (skipped
 * images included, as misses) and the label map's categories.
 */
export async function evaluateSplit(
  predictor: Predictor,
  loader: DetrLoader,
  gt: CocoDataset,
  opts: PredictOptions,
): Promise<SplitEvaluation> {
  const t0 = performance.now();
  const [loaded0, skipped0] = [loader.stats.imagesLoaded, loader.stats.imagesSkipped];
  const { labelMap, records } = loader.split;
  const results = await predictSplit(predictor, loader, labelMap, opts);
  const seconds = (performance.now() - t0) / 1000;
  const images = loader.stats.imagesLoaded - loaded0;
  const imagesSkipped = loader.stats.imagesSkipped - skipped0;
  const ev = evaluateCoco(gt, results, {
    quiet: true,
    params: { imgIds: records.map((r) => r.imageId), catIds: [...labelMap.categoryIds] },
  });
  if (imagesSkipped > 0)
    ev.warnings.push(
      `${imagesSkipped} image(s) could not be read and got no predictions; their objects count as misses`,
    );
  return {
    results,
    eval: ev,
    counts: { images, imagesSkipped, detections: results.length, seconds, imgPerS: images / Math.max(seconds, 1e-9) },
  };
}
