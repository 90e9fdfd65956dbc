export * from './backend.js';
export * from './rng.js';
