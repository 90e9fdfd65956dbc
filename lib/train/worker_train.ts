/**
 * Training's extension of a predictor worker thread (predict/predictor_worker.ts): a replica with AdamW over
 * the worker's model. Gradients go to this worker's region of a SharedArrayBuffer; on `apply` every worker
 * sums all regions in the same order and takes the same AdamW step, so the replicas stay bit-identical
 * without broadcasting weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DetrModel } from '../detr/model.js';
import type { WorkerContext, WorkerHandler } from '../predict/worker_extension.js';
import { Replica, OptimConfig } from './replica.js';
import { profiled } from './kernel_profile.js';
import { AdamWState } from './optimizer.js';
import { TrainBatch, LossNormalizers } from './batch.js';
import { copyToBufferWasm, sumRegionsWasm } from '../engine/wasm_kernels/sum_regions.js';

export interface TrainWorkerData {
  optim: OptimConfig;
  /** numWorkers × P float32 gradient regions, P = Σ trainable sizes in `trainableNames` order. */
  grads: SharedArrayBuffer;
}

export type TrainWorkerRequest =
  | { type: 'grads'; batch: TrainBatch; whole: LossNormalizers; dropoutSeed: number; profile?: boolean }
  | { type: 'apply'; clipMaxNorm: number; lr: number; lrBackbone: number }
  | { type: 'optimizerState' }
  | { type: 'loadOptimizer'; state: AdamWState };

/** Σ all[start + j] over `starts` (in that order), j < size. */
function sumRegions(all: Float32Array, starts: number[], size: number): Float32Array {
  const sum = all.slice(starts[0], starts[0] + size);
  for (const base of starts.slice(1)) for (let j = 0; j < size; j++) sum[j] += all[base + j];
  return sum;
}

export function setupWorker(model: DetrModel, data: unknown, ctx: WorkerContext): Record<string, WorkerHandler> {
  const init = data as TrainWorkerData;
  const replica = new Replica(model, init.optim);
  const store = model.params;
  const sizes = replica.trainableNames.map((n) => store.get(n).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  const all = new Float32Array(init.grads);
  const mine = all.subarray(ctx.index * total, (ctx.index + 1) * total);

  const handle = async (m: TrainWorkerRequest): Promise<unknown> => {
    switch (m.type) {
      case 'grads': {
        const { result: r, kernels } = await profiled(Boolean(m.profile), () =>
          replica.computeGrads(m.batch, m.whole, m.dropoutSeed),
        );
        let off = 0;
        for (const [i, n] of replica.trainableNames.entries()) {
          const g = r.grads.get(n);
          if (!g) mine.fill(0, off, off + sizes[i]);
          else if (!copyToBufferWasm(g, mine, off)) mine.set((await g.data()) as Float32Array, off);
          off += sizes[i];
        }
        tf.dispose([...r.grads.values()]);
        return { terms: r.terms, timings: r.timings, kernels };
      }
      case 'apply': {
        const grads = new Map<string, tf.Tensor>();
        let off = 0;
        replica.trainableNames.forEach((n, i) => {
          const shape = store.get(n).shape;
          const starts = Array.from({ length: ctx.numWorkers }, (_, w) => w * total + off);
          grads.set(
            n,
            sumRegionsWasm(all, starts, sizes[i], shape) ?? tf.tensor(sumRegions(all, starts, sizes[i]), shape),
          );
          off += sizes[i];
        });
        const res = await replica.apply(grads, m.clipMaxNorm, { lr: m.lr, lrBackbone: m.lrBackbone });
        tf.dispose([...grads.values()]);
        return res;
      }
      case 'optimizerState':
        return replica.optimizer.state();
      case 'loadOptimizer':
        replica.optimizer.loadState(m.state);
        return {};
    }
  };
  const h = handle as unknown as WorkerHandler;
  return { grads: h, apply: h, optimizerState: h, loadOptimizer: h };
}
