export * from './atomic.js';
export * from './paths.js';
