/**
 * Entry of a model worker thread: one tfjs backend, one model copy built from the main thread's weights.
 * It answers `predict` and `params`; an extension module (worker_extension.ts) may add more requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine, BackendChoice } from '../engine/backend.js';
import { DetrModel } from '../detr/model.js';
import { ParamStore, tfShape } from '../detr/param_store.js';
import { detrSpecs } from '../detr/hf_names.js';
import type { DetrConfig } from '../detr/config.js';
import { predictArrays, readParams } from './prediction.js';
import type { PaddedBatch } from './padded_batch.js';
import type { WorkerExtensionModule, WorkerExtensionSpec, WorkerHandler } from './worker_extension.js';

export interface PredictorWorkerInit {
  index: number;
  numWorkers: number;
  backend: BackendChoice;
  cfg: DetrConfig;
  params: Map<string, Float32Array>;
  extension?: WorkerExtensionSpec;
}

/** The native kernels module when this thread loaded it (engine/native_kernels), else undefined. */
function nativeKernelsLoaded(): { clearNativeSessions(): void } | undefined {
  const id = require.resolve('../engine/native_kernels/index.js');
  return require.cache[id]?.exports as { clearNativeSessions(): void } | undefined;
}

type Request = { id: number; type: string } & Record<string, unknown>;

async function main(): Promise<void> {
  const init = workerData as PredictorWorkerInit;
  await initEngine({ backend: init.backend, log: null });
  const store = new ParamStore(detrSpecs(init.cfg));
  for (const [name, v] of init.params) {
    const spec = store.specs.get(name);
    if (!spec) throw new Error(`worker: unknown tensor ${name}`);
    store.set(name, tf.tensor(v, tfShape(spec)), true);
  }
  const model = new DetrModel(init.cfg, store);
  const handlers: Record<string, WorkerHandler> = {
    predict: (m) => predictArrays(model, m.batch as PaddedBatch),
    params: () => readParams(model),
    // before the main thread terminates this worker: native sessions released while the environment is alive
    release: async () => {
      const native = nativeKernelsLoaded();
      if (native) native.clearNativeSessions();
      return null;
    },
  };
  if (init.extension) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module is chosen at run time
    const ext = require(init.extension.module) as WorkerExtensionModule;
    Object.assign(
      handlers,
      ext.setupWorker(model, init.extension.data, { index: init.index, numWorkers: init.numWorkers }),
    );
  }

  parentPort!.on('message', (m: Request) => {
    const h = handlers[m.type];
    (h ? h(m) : Promise.reject(new Error(`worker: unknown request ${m.type}`))).then(
      (result) => parentPort!.postMessage({ id: m.id, ok: true, result }),
      (e: Error) =>
        parentPort!.postMessage({ id: m.id, ok: false, error: { message: e.message, name: e.name, stack: e.stack } }),
    );
  });
  parentPort!.postMessage({ id: 0, ok: true, result: 'ready' });
}

main().catch((e: Error) =>
  parentPort!.postMessage({ id: 0, ok: false, error: { message: e.message, name: e.name, stack: e.stack } }),
);
