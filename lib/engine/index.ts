export * from './backend.js';
export * from './rng.js';
export * from './smoke.js';
export * from './workers.js';
export * from './async_grads.js';
