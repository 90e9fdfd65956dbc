/**
 * How a worker thread of the predictor gains more requests: `workerData.extension.module` names a module
 * whose `setupWorker` receives the worker's model and returns handlers by request type. Training uses it to
 * add gradients and the optimizer (train/worker_train.ts); the predictor itself imports no training code.
 */
import type { DetrModel } from '../detr/model.js';

export type WorkerHandler = (m: Record<string, unknown>) => Promise<unknown>;

export interface WorkerExtensionSpec {
  module: string;
  data: unknown;
}

export interface WorkerContext {
  index: number;
  numWorkers: number;
}

export interface WorkerExtensionModule {
  setupWorker(model: DetrModel, data: unknown, ctx: WorkerContext): Record<string, WorkerHandler>;
}
