// What notebooks import: `import { … } from '../dist/lib'`.
export * from './params/index.js';
export * from './engine/index.js';
