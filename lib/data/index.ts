export * from './types.js';
export * from './decode.js';
export * from './geometry.js';
export * from './augment.js';
export * from './batch.js';
export * from './dataset.js';
export * from './loader.js';
export * from './preview.js';
