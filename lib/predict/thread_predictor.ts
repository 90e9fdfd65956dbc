/**
 * Data-parallel prediction: `numWorkers` threads, each with its own tfjs backend and model copy (wasm is
 * single-threaded in Node, so this is how a CPU uses every core); a batch is split into contiguous shares.
 * `openPredictor` chooses in-process prediction for one worker. Training builds on `ThreadPredictor` with a
 * worker extension (train/trainer.ts), so the weights a trainer's workers hold are predicted with this code.
 *
 *   const predictor = await openPredictor(model, { workers: 2, backend: 'wasm' });
 *   try { const pred = await predictor.predict(batch); } finally { await predictor.dispose(); } // disposes `model`
 */
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import type { DetrModel } from '../detr/model.js';
import { joinPredictions, OwnedPredictor, predictArrays, Prediction, readParams } from './prediction.js';
import { PaddedBatch, splitBatch } from './padded_batch.js';
import { WorkerChannel } from './worker_channel.js';
import type { PredictorWorkerInit } from './predictor_worker.js';
import type { WorkerExtensionSpec } from './worker_extension.js';

export interface ThreadPredictorOptions {
  numWorkers: number;
  backend: string;
  extension?: WorkerExtensionSpec;
}

export class ThreadPredictor implements OwnedPredictor {
  private constructor(
    readonly channels: WorkerChannel[],
    readonly model: DetrModel,
  ) {}

  get workers(): number {
    return this.channels.length;
  }

  /** Starts the workers with `model`'s current weights; `model` stays on the main thread (cfg, dispose). */
  static async start(model: DetrModel, o: ThreadPredictorOptions): Promise<ThreadPredictor> {
    const params = await readParams(model);
    const channels = Array.from({ length: o.numWorkers }, (_, index) => {
      const init: PredictorWorkerInit = {
        index,
        numWorkers: o.numWorkers,
        backend: o.backend as PredictorWorkerInit['backend'],
        cfg: model.cfg,
        params,
        extension: o.extension,
      };
      return new WorkerChannel(new Worker(path.join(__dirname, 'predictor_worker.js'), { workerData: init }));
    });
    try {
      await Promise.all(channels.map((w) => w.ready));
    } catch (e) {
      await Promise.all(channels.map((w) => w.worker.terminate()));
      throw e;
    }
    return new ThreadPredictor(channels, model);
  }

  async predict(batch: PaddedBatch): Promise<Prediction> {
    const shares = splitBatch(batch, this.channels.length)
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => s.shape[0] > 0);
    const preds = await Promise.all(
      shares.map(({ s, i }) => this.channels[i].call<Prediction>({ type: 'predict', batch: s })),
    );
    return joinPredictions(preds, this.model.cfg.decoderLayers - 1);
  }

  /** Every tensor of worker 0's model (tfjs layout) by HF name. */
  exportParams(): Promise<Map<string, Float32Array>> {
    return this.channels[0].call({ type: 'params' });
  }

  /** Stops the workers and disposes the main-thread model it was started from. */
  async dispose(): Promise<void> {
    // native sessions are released by their own thread first: a worker terminated with live onnxruntime
    // sessions could abort the process while its environment was torn down ("terminate called after throwing
    // an instance of 'Napi::Error'")
    await Promise.all(this.channels.map((w) => w.call({ type: 'release' }).catch(() => undefined)));
    await Promise.all(this.channels.map((w) => w.worker.terminate()));
    this.model.dispose();
  }
}

/**
 * An inference predictor for `model`: in-process for workers ≤ 1, else data-parallel worker threads.
 * Takes ownership of `model` (disposed by `dispose()`, or here when the workers fail to start).
 */
export async function openPredictor(
  model: DetrModel,
  o: { workers: number; backend: string },
): Promise<OwnedPredictor> {
  if (o.workers <= 1) {
    return { workers: 1, predict: async (b) => predictArrays(model, b), dispose: async () => model.dispose() };
  }
  try {
    return await ThreadPredictor.start(model, { numWorkers: o.workers, backend: o.backend });
  } catch (e) {
    model.dispose();
    throw e;
  }
}
