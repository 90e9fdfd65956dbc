/**
 * Entry of a training worker thread: one tfjs backend, one model replica. Gradients go to this
 * worker's region of a SharedArrayBuffer; on `apply` every worker sums all regions in the same order
 * and takes the same AdamW step, so the replicas stay bit-identical without broadcasting weights.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine, BackendChoice } from '../engine/backend.js';
import { DetrModel } from '../detr/model.js';
import { ParamStore, tfShape } from '../detr/param_store.js';
import { detrSpecs } from '../detr/hf_names.js';
import { DetrConfig } from '../detr/config.js';
import { Replica, OptimConfig } from './replica.js';
import { predictArrays, readParams, profiled } from './trainer.js';
import { AdamWState } from './optimizer.js';
import { TrainBatch, LossNormalizers } from './batch.js';

export interface WorkerInit {
  index: number; numWorkers: number; backend: BackendChoice;
  cfg: DetrConfig; optim: OptimConfig;
  params: Map<string, Float32Array>;
  /** numWorkers × P float32 gradient regions, P = Σ trainable sizes in `trainableNames` order. */
  grads: SharedArrayBuffer;
}

export type WorkerRequest =
  | { id: number; type: 'grads'; batch: TrainBatch; whole: LossNormalizers; dropoutSeed: number; profile?: boolean }
  | { id: number; type: 'apply'; clipMaxNorm: number; lr: number; lrBackbone: number }
  | { id: number; type: 'predict'; batch: TrainBatch }
  | { id: number; type: 'params' }
  | { id: number; type: 'optimizerState' }
  | { id: number; type: 'loadOptimizer'; state: AdamWState };

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  await initEngine({ backend: init.backend, log: null });
  const store = new ParamStore(detrSpecs(init.cfg));
  for (const [name, v] of init.params) {
    const spec = store.specs.get(name);
    if (!spec) throw new Error(`worker: unknown tensor ${name}`);
    store.set(name, tf.tensor(v, tfShape(spec)), true);
  }
  const replica = new Replica(new DetrModel(init.cfg, store), init.optim);
  const sizes = replica.trainableNames.map((n) => store.get(n).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  const all = new Float32Array(init.grads);
  const mine = all.subarray(init.index * total, (init.index + 1) * total);

  const handle = async (m: WorkerRequest): Promise<unknown> => {
    switch (m.type) {
      case 'grads': {
        const { result: r, kernels } = await profiled(Boolean(m.profile), () => replica.computeGrads(m.batch, m.whole, m.dropoutSeed));
        let off = 0;
        for (const [i, n] of replica.trainableNames.entries()) {
          const g = r.grads.get(n);
          if (g) mine.set((await g.data()) as Float32Array, off); else mine.fill(0, off, off + sizes[i]);
          off += sizes[i];
        }
        tf.dispose([...r.grads.values()]);
        return { terms: r.terms, timings: r.timings, kernels };
      }
      case 'apply': {
        const grads = new Map<string, tf.Tensor>();
        let off = 0;
        replica.trainableNames.forEach((n, i) => {
          const sum = all.slice(off, off + sizes[i]);                     // worker 0's share
          for (let w = 1; w < init.numWorkers; w++) {
            const base = w * total + off;
            for (let j = 0; j < sizes[i]; j++) sum[j] += all[base + j];
          }
          grads.set(n, tf.tensor(sum, store.get(n).shape));
          off += sizes[i];
        });
        const res = await replica.apply(grads, m.clipMaxNorm, { lr: m.lr, lrBackbone: m.lrBackbone });
        tf.dispose([...grads.values()]);
        return res;
      }
      case 'predict': return predictArrays(replica.model, m.batch);
      case 'params': return readParams(replica.model);
      case 'optimizerState': return replica.optimizer.state();
      case 'loadOptimizer': replica.optimizer.loadState(m.state); return {};
    }
  };

  parentPort!.on('message', (m: WorkerRequest) => {
    handle(m).then(
      (result) => parentPort!.postMessage({ id: m.id, ok: true, result }),
      (e: Error) => parentPort!.postMessage({ id: m.id, ok: false, error: { message: e.message, name: e.name, stack: e.stack } }),
    );
  });
  parentPort!.postMessage({ id: 0, ok: true, result: 'ready' });
}

main().catch((e: Error) => parentPort!.postMessage({ id: 0, ok: false, error: { message: e.message, name: e.name, stack: e.stack } }));
