// What notebooks import: `import { … } from '../dist/lib'`.
export * from './params/index.js';
export * from './engine/index.js';
export * from './io/index.js';
export * from './viz/index.js';
