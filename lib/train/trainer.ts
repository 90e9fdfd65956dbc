/**
 * Trainers: the same step run in-process (one replica) or data-parallel over worker threads (one
 * replica per thread, each with its own tfjs backend — wasm is single-threaded in Node, so this is
 * how a CPU run uses every core). Both expose one interface so the loop does not care. The threads are
 * the predictor's (predict/thread_predictor.ts); training adds gradients and AdamW to them (worker_train.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { DetrModel } from '../detr/model.js';
import { AdamWState } from './optimizer.js';
import { Replica, OptimConfig, StepTimings } from './replica.js';
import { TrainBatch, lossNormalizers, splitBatch } from './batch.js';
import * as path from 'node:path';
import { seedFrom } from '../engine/rng.js';
import { Prediction, predictArrays, readParams } from '../predict/prediction.js';
import { ThreadPredictor } from '../predict/thread_predictor.js';
import type { TrainWorkerData } from './worker_train.js';
import { KernelRecord, profiled } from './kernel_profile.js';

export type { Prediction } from '../predict/prediction.js';
export { profiled, type KernelRecord } from './kernel_profile.js';

/** `applied: false`: the loss or the gradient norm was not finite and the optimizer applied nothing. */
export interface StepResult {
  terms: Record<string, number>;
  gradNorm: number;
  applied: boolean;
  timings: StepTimings;
  applyMs: number;
  kernels?: KernelRecord[];
  /** Each worker thread's own timings (ThreadTrainer only; `timings` then holds the per-phase maxima). */
  workerTimings?: StepTimings[];
}

/** Whether every loss term is a finite number (checked before any update is applied). */
export const finiteTerms = (terms: Record<string, number>): boolean => Object.values(terms).every(Number.isFinite);
export interface Lrs {
  lr: number;
  lrBackbone: number;
}

export interface Trainer {
  readonly numWorkers: number;
  /** One optimizer step; with `profile`, tfjs' per-kernel timings of the gradient computation (worker 0's share). */
  step(batch: TrainBatch, step: number, lrs: Lrs, profile?: boolean): Promise<StepResult>;
  predict(batch: TrainBatch): Promise<Prediction>;
  /** Every tensor of the model (tfjs layout) by HF name. */
  exportParams(): Promise<Map<string, Float32Array>>;
  exportOptimizer(): Promise<AdamWState>;
  importOptimizer(s: AdamWState): Promise<void>;
  dispose(): Promise<void>;
}

export interface TrainerOptions {
  optim: OptimConfig;
  seed: number;
}

/** Adds per-term values of shares (already rescaled to the whole batch, so a plain sum). */
export function sumTerms(parts: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p)) out[k] = (out[k] ?? 0) + v;
  return out;
}

export const addTimings = (ts: StepTimings[]): StepTimings =>
  ts.reduce(
    (a, t) => ({
      forwardMs: Math.max(a.forwardMs, t.forwardMs),
      backwardMs: Math.max(a.backwardMs, t.backwardMs),
      matchMs: Math.max(a.matchMs, t.matchMs),
    }),
    { forwardMs: 0, backwardMs: 0, matchMs: 0 },
  );

/** Dropout seed of share `i` at `step` (independent of how many workers there are for share 0). */
export const dropoutSeed = (seed: number, step: number, share: number): number =>
  seedFrom('dropout', seed, step, share);

export class InProcessTrainer implements Trainer {
  readonly numWorkers = 1;
  private readonly replica: Replica;

  constructor(
    model: DetrModel,
    private readonly opts: TrainerOptions,
  ) {
    this.replica = new Replica(model, opts.optim);
  }

  get model(): DetrModel {
    return this.replica.model;
  }

  async step(batch: TrainBatch, step: number, lrs: Lrs, profile = false): Promise<StepResult> {
    const cfg = this.replica.model.cfg;
    const whole = lossNormalizers(batch.targets, cfg.numQueries, cfg.loss.eosCoef);
    const { result: r, kernels } = await profiled(profile, () =>
      this.replica.computeGrads(batch, whole, dropoutSeed(this.opts.seed, step, 0)),
    );
    const t0 = performance.now();
    const { gradNorm, applied } = finiteTerms(r.terms)
      ? await this.replica.apply(r.grads, this.opts.optim.clipMaxNorm, lrs)
      : { gradNorm: NaN, applied: false };
    tf.dispose([...r.grads.values()]);
    return { terms: r.terms, gradNorm, applied, timings: r.timings, applyMs: performance.now() - t0, kernels };
  }

  async predict(batch: TrainBatch): Promise<Prediction> {
    return predictArrays(this.replica.model, batch);
  }
  exportParams(): Promise<Map<string, Float32Array>> {
    return readParams(this.replica.model);
  }
  exportOptimizer(): Promise<AdamWState> {
    return this.replica.optimizer.state();
  }
  async importOptimizer(s: AdamWState): Promise<void> {
    this.replica.optimizer.loadState(s);
  }
  async dispose(): Promise<void> {
    this.replica.dispose();
  }
}

/** Data-parallel trainer: the batch is split across `numWorkers` predictor threads extended by worker_train.ts. */
export class ThreadTrainer implements Trainer {
  private constructor(
    private readonly pool: ThreadPredictor,
    private readonly opts: TrainerOptions,
  ) {}

  get numWorkers(): number {
    return this.pool.workers;
  }

  static async start(
    model: DetrModel,
    opts: TrainerOptions & { numWorkers: number; backend: string },
  ): Promise<ThreadTrainer> {
    const trainable = [...model.params.trainable().values()].reduce((a, v) => a + v.size, 0);
    const data: TrainWorkerData = { optim: opts.optim, grads: new SharedArrayBuffer(opts.numWorkers * trainable * 4) };
    const extension = { module: path.join(__dirname, 'worker_train.js'), data };
    const pool = await ThreadPredictor.start(model, { numWorkers: opts.numWorkers, backend: opts.backend, extension });
    return new ThreadTrainer(pool, opts);
  }

  async step(batch: TrainBatch, step: number, lrs: Lrs, profile = false): Promise<StepResult> {
    const cfg = this.pool.model.cfg,
      workers = this.pool.channels;
    const whole = lossNormalizers(batch.targets, cfg.numQueries, cfg.loss.eosCoef);
    const shares = splitBatch(batch, workers.length);
    const parts = await Promise.all(
      workers.map((w, i) =>
        w.call<{ terms: Record<string, number>; timings: StepTimings; kernels?: KernelRecord[] }>(
          {
            type: 'grads',
            batch: shares[i],
            whole,
            dropoutSeed: dropoutSeed(this.opts.seed, step, i),
            profile: profile && i === 0,
          },
          [shares[i].pixels.buffer as ArrayBuffer, shares[i].mask.buffer as ArrayBuffer],
        ),
      ),
    );
    const terms = sumTerms(parts.map((p) => p.terms)),
      timings = addTimings(parts.map((p) => p.timings));
    if (!finiteTerms(terms))
      return { terms, gradNorm: NaN, applied: false, timings, applyMs: 0, kernels: parts[0].kernels };
    const t0 = performance.now();
    const res = await Promise.all(
      workers.map((w) =>
        w.call<{ gradNorm: number; applied: boolean }>({
          type: 'apply',
          clipMaxNorm: this.opts.optim.clipMaxNorm,
          ...lrs,
        }),
      ),
    );
    return {
      terms,
      gradNorm: res[0].gradNorm,
      applied: res.every((r) => r.applied),
      timings,
      applyMs: performance.now() - t0,
      kernels: parts[0].kernels,
      workerTimings: parts.map((p) => p.timings),
    };
  }

  predict(batch: TrainBatch): Promise<Prediction> {
    return this.pool.predict(batch);
  }
  exportParams(): Promise<Map<string, Float32Array>> {
    return this.pool.exportParams();
  }
  exportOptimizer(): Promise<AdamWState> {
    return this.pool.channels[0].call({ type: 'optimizerState' });
  }
  async importOptimizer(state: AdamWState): Promise<void> {
    await Promise.all(this.pool.channels.map((w) => w.call({ type: 'loadOptimizer', state })));
  }
  /** Stops the workers and disposes the main-thread model it was started from. */
  dispose(): Promise<void> {
    return this.pool.dispose();
  }
}
