// DETR: configuration, model, weights (HF names, safetensors, hub), matcher, set loss, postprocess.
export * from './config.js';
export {
  ParamStore,
  tfShape,
  fromHf,
  toHf,
  initValues,
  type TensorLayout,
  type ParamGroup,
  type InitSpec,
  type TensorSpec as DetrTensorSpec,
} from './param_store.js';
export * from './backbone.js';
export * from './model.js';
export type { DetrOutput } from './detr_forward.js';
export { detrFromFeatures } from './detr_forward.js';
export { EVAL, type RunMode } from './nn.js';
export * from './hf_names.js';
export * from './hf_config.js';
export * from './hf_backbone.js';
export * from './weights.js';
export * from './hub.js';
export * from './pretrained.js';
export * from './hungarian.js';
export * from './matcher.js';
export * from './criterion.js';
export * from './postprocess.js';
export { runParityDetr, runParityAssignment } from './parity.js';
