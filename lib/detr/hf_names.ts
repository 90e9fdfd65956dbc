/**
 * The complete tensor table (HF names, PyTorch shapes) of a DETR, generated from the architecture:
 * backbone specs + transformer/head specs. For `DEFAULT_DETR` this is `facebook/detr-resnet-50`'s
 * `model.safetensors` (transformers `modeling_detr.py` names: 318 parameter tensors + 212 frozen-BN buffers,
 * 41,524,768 parameters, counted from the shapes; tests/detr/hf_names.test.ts).
 */
import { TensorSpec } from './param_store.js';
import { DetrConfig, DEFAULT_DETR } from './config.js';
import { backboneSpecs, backboneOutChannels } from './backbone.js';
import { transformerSpecs } from './specs.js';

/** Every tensor of a DETR with this config, backbone first. */
export function detrSpecs(cfg: DetrConfig): TensorSpec[] {
  return [...backboneSpecs(cfg.backbone), ...transformerSpecs(cfg, backboneOutChannels(cfg.backbone))];
}

/** Name → PyTorch shape of `facebook/detr-resnet-50`. */
export function detrResnet50Table(): Map<string, number[]> {
  return new Map(detrSpecs(DEFAULT_DETR).map((s) => [s.name, s.hfShape]));
}

/** True for frozen batch-norm statistics (`running_mean` / `running_var`), which are buffers, not parameters. */
export const isBnStatistic = (name: string): boolean => /\.running_(mean|var)$/.test(name);
