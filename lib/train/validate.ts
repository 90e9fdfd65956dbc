/**
 * Validation during training: the trainer predicts the val split (no score threshold, as DETR's
 * PostProcess for mAP) and lib/eval scores it with pycocotools semantics.
 */
import { DetrLoader } from '../data/loader.js';
import { CocoDataset } from '../coco/types.js';
import { evaluateSplit, SplitEvaluation } from '../eval/inference.js';
import { Trainer } from './trainer.js';

export async function validate(trainer: Trainer, loader: DetrLoader, gt: CocoDataset): Promise<SplitEvaluation> {
  return evaluateSplit(trainer, loader, gt, { scoreThr: 0, progress: true, label: 'val', transient: true });
}
