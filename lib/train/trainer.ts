/**
 * Trainers: the same step run in-process (one replica) or data-parallel over worker threads (one
 * replica per thread, each with its own tfjs backend — wasm is single-threaded in Node, so this is
 * how a CPU run uses every core). Both expose one interface so the loop does not care.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DetrModel } from '../detr/model.js';
import { AdamWState } from './optimizer.js';
import { Replica, OptimConfig, StepTimings } from './replica.js';
import { TrainBatch, lossNormalizers, splitBatch } from './batch.js';
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { seedFrom } from '../engine/rng.js';

export interface KernelRecord { name: string; kernelTimeMs: number; inputShapes?: number[][]; outputShapes?: number[][] }
/** `applied: false`: the loss or the gradient norm was not finite and the optimizer applied nothing. */
export interface StepResult {
  terms: Record<string, number>; gradNorm: number; applied: boolean; timings: StepTimings; applyMs: number; kernels?: KernelRecord[];
  /** Each worker thread's own timings (ThreadTrainer only; `timings` then holds the per-phase maxima). */
  workerTimings?: StepTimings[];
}

/** Whether every loss term is a finite number (checked before any update is applied). */
export const finiteTerms = (terms: Record<string, number>): boolean => Object.values(terms).every(Number.isFinite);
export interface Prediction {
  logits: Float32Array; boxes: Float32Array; shape: [number, number, number] /* B, Q, K+1 */;
  /** Earlier decoder layers' outputs [L-1, B, Q, K+1] / [L-1, B, Q, 4] (validation losses with auxLoss). */
  auxLogits?: Float32Array; auxBoxes?: Float32Array;
}
export interface Lrs { lr: number; lrBackbone: number }

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

export interface TrainerOptions { optim: OptimConfig; seed: number }

/** Adds per-term values of shares (already rescaled to the whole batch, so a plain sum). */
export function sumTerms(parts: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p)) out[k] = (out[k] ?? 0) + v;
  return out;
}

export const addTimings = (ts: StepTimings[]): StepTimings =>
  ts.reduce((a, t) => ({ forwardMs: Math.max(a.forwardMs, t.forwardMs), backwardMs: Math.max(a.backwardMs, t.backwardMs), matchMs: Math.max(a.matchMs, t.matchMs) }), { forwardMs: 0, backwardMs: 0, matchMs: 0 });

/** Dropout seed of share `i` at `step` (independent of how many workers there are for share 0). */
export const dropoutSeed = (seed: number, step: number, share: number): number => seedFrom('dropout', seed, step, share);

/** Runs `fn`, under tf.profile when asked, returning its result and the kernel timings. */
export async function profiled<T>(on: boolean, fn: () => Promise<T>): Promise<{ result: T; kernels?: KernelRecord[] }> {
  if (!on) return { result: await fn() };
  let result!: T;
  const info = await tf.profile(async () => { result = await fn(); });
  const kernels = info.kernels.map((k) => ({ name: k.name, kernelTimeMs: typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0, inputShapes: k.inputShapes, outputShapes: k.outputShapes }));
  return { result, kernels };
}

/** Runs a forward pass in eval mode and reads logits/boxes. */
export async function predictArrays(model: DetrModel, batch: TrainBatch): Promise<Prediction> {
  const [b, h, w] = batch.shape;
  const outs = tf.tidy(() => {
    const out = model.forward(tf.tensor4d(batch.pixels, [b, h, w, 3]), tf.tensor3d(batch.mask, [b, h, w], 'int32') as tf.Tensor3D, false);
    return [out.logits, out.predBoxes, out.auxLogits, out.auxPredBoxes];
  });
  const [logits, boxes, auxLogits, auxBoxes] = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  const res: Prediction = { logits, boxes, shape: outs[0].shape as [number, number, number], auxLogits, auxBoxes };
  tf.dispose(outs);
  return res;
}

/** Shares' [L, b_i, …] arrays (batch on axis 1) joined along the batch: [L, Σb_i, …]. */
function joinLayers(parts: Array<{ data?: Float32Array; b: number }>, layers: number, perImage: number): Float32Array | undefined {
  if (parts.some((p) => !p.data)) return undefined;
  const total = parts.reduce((a, p) => a + p.b, 0);
  const out = new Float32Array(layers * total * perImage);
  for (let l = 0; l < layers; l++) {
    let row = 0;
    for (const p of parts) { out.set(p.data!.subarray(l * p.b * perImage, (l + 1) * p.b * perImage), (l * total + row) * perImage); row += p.b; }
  }
  return out;
}

export async function readParams(model: DetrModel): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const n of model.params.names()) out.set(n, (await model.params.get(n).data()) as Float32Array);
  return out;
}

export class InProcessTrainer implements Trainer {
  readonly numWorkers = 1;
  private readonly replica: Replica;

  constructor(model: DetrModel, private readonly opts: TrainerOptions) {
    this.replica = new Replica(model, opts.optim);
  }

  get model(): DetrModel { return this.replica.model; }

  async step(batch: TrainBatch, step: number, lrs: Lrs, profile = false): Promise<StepResult> {
    const cfg = this.replica.model.cfg;
    const whole = lossNormalizers(batch.targets, cfg.numQueries, cfg.loss.eosCoef);
    const { result: r, kernels } = await profiled(profile, () => this.replica.computeGrads(batch, whole, dropoutSeed(this.opts.seed, step, 0)));
    const t0 = performance.now();
    const { gradNorm, applied } = finiteTerms(r.terms) ? await this.replica.apply(r.grads, this.opts.optim.clipMaxNorm, lrs) : { gradNorm: NaN, applied: false };
    tf.dispose([...r.grads.values()]);
    return { terms: r.terms, gradNorm, applied, timings: r.timings, applyMs: performance.now() - t0, kernels };
  }

  async predict(batch: TrainBatch): Promise<Prediction> { return predictArrays(this.replica.model, batch); }
  exportParams(): Promise<Map<string, Float32Array>> { return readParams(this.replica.model); }
  exportOptimizer(): Promise<AdamWState> { return this.replica.optimizer.state(); }
  async importOptimizer(s: AdamWState): Promise<void> { this.replica.optimizer.loadState(s); }
  async dispose(): Promise<void> { this.replica.dispose(); }
}

type Pending = { resolve(v: unknown): void; reject(e: Error): void };

/** One worker thread and its request/response channel. */
class WorkerHandle {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  readonly ready: Promise<void>;

  constructor(readonly worker: Worker) {
    let readyResolve!: () => void, readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => { readyResolve = res; readyReject = rej; });
    worker.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: { message: string; name?: string; stack?: string } }) => {
      if (m.id === 0) { if (m.ok) readyResolve(); else readyReject(Object.assign(new Error(`worker failed to start: ${m.error?.message}`), { stack: m.error?.stack })); return; }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      // the worker's error name travels too (NonFiniteError, UserError decide how training stops)
      if (m.ok) p.resolve(m.result); else p.reject(Object.assign(new Error(m.error?.message ?? 'worker error'), { name: m.error?.name ?? 'Error', stack: m.error?.stack }));
    });
    worker.on('error', (e) => { readyReject(e); for (const p of this.pending.values()) p.reject(e); this.pending.clear(); });
    worker.on('exit', (code) => { const e = new Error(`training worker exited (code ${code})`); readyReject(e); for (const p of this.pending.values()) p.reject(e); this.pending.clear(); });
  }

  call<T>(msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }
}

/** Data-parallel trainer: the batch is split across `numWorkers` threads (see worker_main.ts). */
export class ThreadTrainer implements Trainer {
  private constructor(private readonly workers: WorkerHandle[], private readonly model: DetrModel, private readonly opts: TrainerOptions) {}

  get numWorkers(): number { return this.workers.length; }

  static async start(model: DetrModel, opts: TrainerOptions & { numWorkers: number; backend: string }): Promise<ThreadTrainer> {
    const params = await readParams(model);
    const trainable = [...model.params.trainable().values()].reduce((a, v) => a + v.size, 0);
    const grads = new SharedArrayBuffer(opts.numWorkers * trainable * 4);
    const workers = Array.from({ length: opts.numWorkers }, (_, index) => new WorkerHandle(new Worker(path.join(__dirname, 'worker_main.js'), {
      workerData: { index, numWorkers: opts.numWorkers, backend: opts.backend, cfg: model.cfg, optim: opts.optim, params, grads },
    })));
    try {
      await Promise.all(workers.map((w) => w.ready));
    } catch (e) {
      await Promise.all(workers.map((w) => w.worker.terminate()));
      throw e;
    }
    return new ThreadTrainer(workers, model, opts);
  }

  async step(batch: TrainBatch, step: number, lrs: Lrs, profile = false): Promise<StepResult> {
    const cfg = this.model.cfg;
    const whole = lossNormalizers(batch.targets, cfg.numQueries, cfg.loss.eosCoef);
    const shares = splitBatch(batch, this.workers.length);
    const parts = await Promise.all(this.workers.map((w, i) => w.call<{ terms: Record<string, number>; timings: StepTimings; kernels?: KernelRecord[] }>(
      { type: 'grads', batch: shares[i], whole, dropoutSeed: dropoutSeed(this.opts.seed, step, i), profile: profile && i === 0 },
      [shares[i].pixels.buffer as ArrayBuffer, shares[i].mask.buffer as ArrayBuffer])));
    const terms = sumTerms(parts.map((p) => p.terms)), timings = addTimings(parts.map((p) => p.timings));
    if (!finiteTerms(terms)) return { terms, gradNorm: NaN, applied: false, timings, applyMs: 0, kernels: parts[0].kernels };
    const t0 = performance.now();
    const res = await Promise.all(this.workers.map((w) => w.call<{ gradNorm: number; applied: boolean }>({ type: 'apply', clipMaxNorm: this.opts.optim.clipMaxNorm, ...lrs })));
    return {
      terms, gradNorm: res[0].gradNorm, applied: res.every((r) => r.applied), timings, applyMs: performance.now() - t0,
      kernels: parts[0].kernels, workerTimings: parts.map((p) => p.timings),
    };
  }

  async predict(batch: TrainBatch): Promise<Prediction> {
    const shares = splitBatch(batch, this.workers.length).map((s, i) => ({ s, i })).filter(({ s }) => s.shape[0] > 0);
    const preds = await Promise.all(shares.map(({ s, i }) => this.workers[i].call<Prediction>({ type: 'predict', batch: s })));
    const [, q, k1] = preds[0].shape;
    const b = preds.reduce((a, p) => a + p.shape[0], 0);
    const logits = new Float32Array(b * q * k1), boxes = new Float32Array(b * q * 4);
    let row = 0;
    for (const p of preds) { logits.set(p.logits, row * q * k1); boxes.set(p.boxes, row * q * 4); row += p.shape[0]; }
    const layers = this.model.cfg.decoderLayers - 1;
    const auxLogits = joinLayers(preds.map((p) => ({ data: p.auxLogits, b: p.shape[0] })), layers, q * k1);
    const auxBoxes = joinLayers(preds.map((p) => ({ data: p.auxBoxes, b: p.shape[0] })), layers, q * 4);
    return { logits, boxes, shape: [b, q, k1], auxLogits, auxBoxes };
  }

  exportParams(): Promise<Map<string, Float32Array>> { return this.workers[0].call({ type: 'params' }); }
  exportOptimizer(): Promise<AdamWState> { return this.workers[0].call({ type: 'optimizerState' }); }
  async importOptimizer(state: AdamWState): Promise<void> { await Promise.all(this.workers.map((w) => w.call({ type: 'loadOptimizer', state }))); }
  /** Stops the workers and disposes the main-thread model it was started from. */
  async dispose(): Promise<void> { await Promise.all(this.workers.map((w) => w.worker.terminate())); this.model.dispose(); }
}
