/**
 * Validation during training: predictions on the val split (no score threshold, as DETR's PostProcess
 * for mAP), COCOeval with pycocotools semantics, and a few images with their predictions for TensorBoard.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DetrLoader } from '../data/loader.js';
import { DetrBatch } from '../data/types.js';
import { postprocess, toCocoResults } from '../detr/postprocess.js';
import { evaluateCoco, CocoEvalResult } from '../eval/index.js';
import { CocoDataset, CocoResult } from '../coco/types.js';
import { LabelMap } from '../coco/subset_types.js';
import { Trainer } from './trainer.js';
import { progress } from '../viz/progress.js';

export interface Validation { eval: CocoEvalResult; results: CocoResult[]; firstBatch?: DetrBatch; ms: number }

export async function validate(trainer: Trainer, loader: DetrLoader, gt: CocoDataset, labels: LabelMap, label = 'val'): Promise<Validation> {
  const t0 = Date.now();
  const results: CocoResult[] = [];
  const imgIds: number[] = [];
  let firstBatch: DetrBatch | undefined;
  const bar = progress({ total: loader.split.records.length, label, unit: 'img' });
  for await (const batch of loader.epoch(0)) {
    firstBatch ??= batch;
    const pred = await trainer.predict(batch);
    const images = batch.targets.map((t) => ({ imageId: t.imageId, width: t.origSize[1], height: t.origSize[0] }));
    const logits = tf.tensor3d(pred.logits, pred.shape);                                   // [B, Q, K+1]
    const boxes = tf.tensor3d(pred.boxes, [pred.shape[0], pred.shape[1], 4]);              // [B, Q, 4]
    results.push(...(toCocoResults(postprocess(logits, boxes, images, labels.categoryIds)) as CocoResult[]));
    tf.dispose([logits, boxes]);
    imgIds.push(...batch.imageIds);
    bar.tick(batch.imageIds.length);
  }
  bar.done();
  const ev = evaluateCoco(gt, results, { params: { imgIds, catIds: labels.categoryIds }, quiet: true });
  return { eval: ev, results, firstBatch, ms: Date.now() - t0 };
}
