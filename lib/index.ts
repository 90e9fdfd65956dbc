// What notebooks import: `import { … } from '../dist/lib'`. Importing it has no side effect; a notebook calls
// `enterProjectRoot()` itself (its kernel starts in notebooks/, stage paths are relative to the project root).

export * from './params/index.js';
export * from './engine/index.js';
export * from './io/index.js';
export * from './viz/index.js';
export * from './box/index.js';
export * from './coco/index.js';
export * from './data/index.js';
export * from './detr/index.js';
export * from './cocoeval/index.js';
export * from './predict/index.js';
export * from './eval/index.js';
export * from './analysis/index.js';
export * from './crops/index.js';
export * from './synth/index.js';
export * from './classify/index.js';
export * from './train/index.js';
