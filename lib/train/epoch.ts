/**
 * One training epoch, read top to bottom: next batch → step (forward, match, loss, backward, clip,
 * AdamW) → check finite → log (log.jsonl, TensorBoard, progress) → trace the chosen steps.
 */
import { DetrLoader } from '../data/loader.js';
import { RunDir } from './run_dir.js';
import { SummaryWriter } from './tensorboard/writer.js';
import { TraceRecorder, TID } from './trace.js';
import { Trainer, Lrs, StepResult } from './trainer.js';
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

/** Lays one step's measured phases end to end on the trace's phase track. */
function traceStep(trace: TraceRecorder, startUs: number, waitMs: number, r: StepResult, step: number): void {
  let t = startUs;
  const put = (name: string, ms: number, tid: number = TID.phases) => { trace.complete(name, 'phase', t, ms * 1000, tid, { step }); t += ms * 1000; };
  put('data wait', waitMs, TID.data);
  put('forward', r.timings.forwardMs - r.timings.matchMs);
  put('matching + loss', r.timings.matchMs);
  put('backward', r.timings.backwardMs);
  put('clip + AdamW', r.applyMs);
  if (r.kernels) trace.kernels(r.kernels, startUs + waitMs * 1000); // forward + backward kernels of worker 0's share
}

export interface EpochResult {
  step: number; batchIndex: number; stopped: boolean; seen: number;
  /** Mean of each loss term over this epoch's steps (this session's, after a resume). */
  meanTerms: Record<string, number>;
}

/** Returns the global step after the epoch, the batches done in it, and whether maxSteps was reached. */
export async function runEpoch(c: EpochContext): Promise<EpochResult> {
  let step = c.step, batchIndex = c.startBatch, seen = 0, steps = 0;
  const sums: Record<string, number> = {};
  const mean = () => Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(1, steps)]));
  const epochT0 = Date.now();
  for await (const batch of c.loader.epoch(c.epoch, c.startBatch)) {
    const profile = step >= c.traceFrom && step < c.traceTo;
    const t0 = nowUs();
    const r = await c.trainer.step(batch, step, c.lrs, profile);
    step++; batchIndex++; seen += batch.imageIds.length;
    if (!Object.values(r.terms).every(Number.isFinite)) throw new TrainingDiverged(step, r.terms);
    if (profile) traceStep(c.trace, t0, batch.waitMs, r, step);
    const row = { split: 'train', step, epoch: c.epoch, ...r.terms, lr: c.lrs.lr, lr_backbone: c.lrs.lrBackbone, grad_norm: r.gradNorm, data_wait_ms: batch.waitMs };
    c.run.log(row);
    c.tb.scalars({ loss_ce: r.terms.loss_ce, loss_bbox: r.terms.loss_bbox, loss_giou: r.terms.loss_giou, loss_total: r.terms.loss_total, lr: c.lrs.lr, lr_backbone: c.lrs.lrBackbone, grad_norm: r.gradNorm }, step, 'train/');
    steps++;
    for (const [k, v] of Object.entries(r.terms)) sums[k] = (sums[k] ?? 0) + v;
    c.bar.tick(1, {
      loss: r.terms.loss_total, ce: r.terms.loss_ce, bbox: r.terms.loss_bbox, giou: r.terms.loss_giou,
      lr: c.lrs.lr.toExponential(1), 'img/s': (seen / Math.max(1e-3, (Date.now() - epochT0) / 1000)).toFixed(2),
    });
    await c.afterStep?.(step, batchIndex);
    if (c.maxSteps > 0 && step >= c.maxSteps) return { step, batchIndex, stopped: batchIndex < c.loader.batchesPerEpoch, seen, meanTerms: mean() };
  }
  return { step, batchIndex, stopped: false, seen, meanTerms: mean() };
}
