export * from './box_ops.js';
export * from './box_tensor.js';
