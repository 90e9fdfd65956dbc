// The predictor: a model and its worker threads (load, predict, export weights), shared by train/ and eval/.
export * from './padded_batch.js';
export * from './prediction.js';
export { ThreadPredictor, openPredictor } from './thread_predictor.js';
export type { ThreadPredictorOptions } from './thread_predictor.js';
export type { WorkerExtensionModule, WorkerExtensionSpec, WorkerHandler, WorkerContext } from './worker_extension.js';
