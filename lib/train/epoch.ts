/**
 * One training epoch, read top to bottom: next batch → step (forward, match, loss, backward, clip,
 * AdamW) → check finite → log (log.jsonl, TensorBoard, progress) → trace the chosen steps.
 */
import { DetrLoader } from '../data/loader.js';
import { RunDir } from '../io/run_dir.js';
import { SummaryWriter } from './tensorboard/writer.js';
import { nowUs, TraceRecorder } from './trace.js';
import { Trainer, Lrs, StepResult, finiteTerms } from './trainer.js';
import { Progress } from '../viz/progress.js';
import { isNonFiniteError } from '../engine/finite.js';

/**
 * The divergence stop: a user-facing error (exit 2) raised before the optimizer applied the bad step, so the
 * model, the optimizer state and checkpoints/last stay as they were after the last finite step.
 */
export class TrainingDiverged extends Error {
  constructor(
    readonly step: number,
    readonly what: string,
  ) {
    super(
      `training diverged at step ${step}: ${what}; stopped without applying it (checkpoints/last keeps the last saved finite state). ` +
        'Lower --lr / --lr-backbone, keep --clip-max-norm > 0, or check the data.',
    );
    this.name = 'UserError';
  }
}

const listTerms = (terms: Record<string, number>): string =>
  Object.entries(terms)
    .filter(([, v]) => !Number.isFinite(v))
    .map(([k, v]) => `${k}=${v}`)
    .slice(0, 4)
    .join(', ');

/** One step, with every non-finite outcome turned into the divergence stop. */
async function checkedStep(
  c: EpochContext,
  batch: Parameters<Trainer['step']>[0],
  step: number,
  profile: boolean,
): Promise<StepResult> {
  let r: StepResult;
  try {
    r = await c.trainer.step(batch, step, c.lrs, profile);
  } catch (e) {
    if (isNonFiniteError(e)) throw new TrainingDiverged(step + 1, (e as Error).message);
    throw e;
  }
  if (!finiteTerms(r.terms)) throw new TrainingDiverged(step + 1, `non-finite loss (${listTerms(r.terms)})`);
  if (!r.applied || !Number.isFinite(r.gradNorm))
    throw new TrainingDiverged(step + 1, `non-finite gradient norm (${r.gradNorm})`);
  return r;
}

export interface EpochContext {
  trainer: Trainer;
  loader: DetrLoader;
  run: RunDir;
  tb: SummaryWriter;
  trace: TraceRecorder;
  bar: Progress;
  lrs: Lrs;
  epoch: number;
  startBatch: number;
  /** Steps done before this epoch (and the global limit, 0 = none). */
  step: number;
  maxSteps: number;
  traceFrom: number;
  traceTo: number;
  /** Called after every step with the global step (checkpoint cadence). */
  afterStep?: (step: number, batchInEpoch: number) => Promise<void>;
}

export interface EpochResult {
  step: number;
  batchIndex: number;
  stopped: boolean;
  seen: number;
  /** Mean of each loss term over this epoch's steps (this session's, after a resume). */
  meanTerms: Record<string, number>;
}

/** Returns the global step after the epoch, the batches done in it, and whether maxSteps was reached. */
export async function runEpoch(c: EpochContext): Promise<EpochResult> {
  let step = c.step,
    batchIndex = c.startBatch,
    seen = 0,
    steps = 0;
  const sums: Record<string, number> = {};
  const mean = () => Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(1, steps)]));
  const epochT0 = Date.now();
  for await (const batch of c.loader.epoch(c.epoch, c.startBatch)) {
    const profile = step >= c.traceFrom && step < c.traceTo;
    const t0 = nowUs();
    const r = await checkedStep(c, batch, step, profile);
    const t1 = nowUs();
    step++;
    batchIndex++;
    seen += batch.imageIds.length;
    if (profile) c.trace.trainStep(step, t0, t1, batch.waitMs, r);
    const row = {
      split: 'train',
      step,
      epoch: c.epoch,
      ...r.terms,
      lr: c.lrs.lr,
      lr_backbone: c.lrs.lrBackbone,
      grad_norm: r.gradNorm,
      data_wait_ms: batch.waitMs,
    };
    c.run.log(row);
    c.tb.scalars(
      {
        loss_ce: r.terms.loss_ce,
        loss_bbox: r.terms.loss_bbox,
        loss_giou: r.terms.loss_giou,
        loss_total: r.terms.loss_total,
        lr: c.lrs.lr,
        lr_backbone: c.lrs.lrBackbone,
        grad_norm: r.gradNorm,
      },
      step,
      'train/',
    );
    steps++;
    for (const [k, v] of Object.entries(r.terms)) sums[k] = (sums[k] ?? 0) + v;
    c.bar.tick(1, {
      loss: r.terms.loss_total,
      ce: r.terms.loss_ce,
      bbox: r.terms.loss_bbox,
      giou: r.terms.loss_giou,
      lr: c.lrs.lr.toExponential(1),
      'img/s': (seen / Math.max(1e-3, (Date.now() - epochT0) / 1000)).toFixed(2),
    });
    await c.afterStep?.(step, batchIndex);
    if (c.maxSteps > 0 && step >= c.maxSteps)
      return { step, batchIndex, stopped: batchIndex < c.loader.batchesPerEpoch, seen, meanTerms: mean() };
  }
  return { step, batchIndex, stopped: false, seen, meanTerms: mean() };
}
