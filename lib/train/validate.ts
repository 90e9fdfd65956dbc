/**
 * Validation during training: the trainer predicts the val split (no score threshold, as DETR's
 * PostProcess for mAP) and lib/eval scores it with pycocotools semantics; the same predictions give the
 * validation losses (val_loss.ts).
 */
import { DetrLoader } from '../data/loader.js';
import { CocoDataset } from '../coco/types.js';
import { DetrConfig } from '../detr/config.js';
import { DetrBatch } from '../data/types.js';
import { evaluateSplit, SplitEvaluation } from '../eval/inference.js';
import { Trainer } from './trainer.js';
import { predictionLoss, LossMean } from './val_loss.js';

export interface Validation {
  evaluation: SplitEvaluation;
  losses: Record<string, number>;
}

export async function validate(
  trainer: Trainer,
  loader: DetrLoader,
  gt: CocoDataset,
  cfg: DetrConfig,
): Promise<Validation> {
  const mean = new LossMean();
  const predictor = {
    predict: async (batch: DetrBatch) => {
      const pred = await trainer.predict(batch);
      mean.add(await predictionLoss(pred, batch.targets, cfg), batch.targets.length);
      return pred;
    },
  };
  const evaluation = await evaluateSplit(predictor, loader, gt, {
    scoreThr: 0,
    progress: true,
    label: 'val',
    transient: true,
  });
  return { evaluation, losses: mean.mean() };
}
