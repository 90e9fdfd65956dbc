/**
 * One training epoch, read top to bottom: next batch → step (forward, match, loss, backward, clip,
 * AdamW) → check finite → log (log.jsonl, TensorBoard, progress) → trace the chosen steps.
 */
import { DetrLoader } from '../data/loader.js';
import { RunDir } from './run_dir.js';
import { SummaryWriter } from './tensorboard/writer.js';
import { TraceRecorder } from './trace.js';
import { Trainer, Lrs } from './trainer.js';
import { Progress } from '../viz/progress.js';

export class TrainingDiverged extends Error {
  constructor(readonly step: number, readonly terms: Record<string, number>) {
    super(`non-finite loss at step ${step}: ${Object.entries(terms).map(([k, v]) => `${k}=${v}`).join(', ')}; stopping (the last good checkpoint is kept). Lower the learning rates or check the data.`);
    this.name = 'StageError';
  }
}

export interface EpochContext {
  trainer: Trainer; loader: DetrLoader; run: RunDir; tb: SummaryWriter; trace: TraceRecorder; bar: Progress;
  lrs: Lrs; epoch: number; startBatch: number;
  /** Steps done before this epoch (and the global limit, 0 = none). */
  step: number; maxSteps: number;
  traceFrom: number; traceTo: number;
  /** Called after every step with the global step (checkpoint cadence). */
  afterStep?: (step: number, batchInEpoch: number) => Promise<void>;
}

const nowUs = () => (performance.timeOrigin + performance.now()) * 1000;

/** Returns the global step after the epoch, the batches done in it, and whether maxSteps was reached. */
export async function runEpoch(c: EpochContext): Promise<{ step: number; batchIndex: number; stopped: boolean; seen: number }> {
  let step = c.step, batchIndex = c.startBatch, seen = 0;
  for await (const batch of c.loader.epoch(c.epoch, c.startBatch)) {
    const profile = step >= c.traceFrom && step < c.traceTo;
    const t0 = nowUs();
    const r = await c.trainer.step(batch, step, c.lrs, profile);
    const t1 = nowUs();
    step++; batchIndex++; seen += batch.imageIds.length;
    if (!Object.values(r.terms).every(Number.isFinite)) throw new TrainingDiverged(step, r.terms);
    if (profile) c.trace.trainStep(step, t0, t1, batch.waitMs, r);
    const row = { split: 'train', step, epoch: c.epoch, ...r.terms, lr: c.lrs.lr, lr_backbone: c.lrs.lrBackbone, grad_norm: r.gradNorm, data_wait_ms: batch.waitMs };
    c.run.log(row);
    c.tb.scalars({ loss_ce: r.terms.loss_ce, loss_bbox: r.terms.loss_bbox, loss_giou: r.terms.loss_giou, loss_total: r.terms.loss_total, lr: c.lrs.lr, lr_backbone: c.lrs.lrBackbone, grad_norm: r.gradNorm }, step, 'train/');
    c.bar.tick(batch.imageIds.length, { epoch: c.epoch + 1, loss: r.terms.loss_total, ce: r.terms.loss_ce });
    await c.afterStep?.(step, batchIndex);
    if (c.maxSteps > 0 && step >= c.maxSteps) return { step, batchIndex, stopped: batchIndex < c.loader.batchesPerEpoch, seen };
  }
  return { step, batchIndex, stopped: false, seen };
}
