/**
 * Tensor specs (HF name, PyTorch shape, layout, init) of everything in DETR except the backbone:
 * input projection, learned queries, encoder, decoder, heads. Init follows facebookresearch/detr:
 * `Transformer._reset_parameters` (xavier-uniform on every matrix; the fused q/k/v `in_proj_weight`
 * [3D, D] is one xavier draw, so each of q/k/v gets bound √(6/(D+3D))), `nn.MultiheadAttention` biases 0,
 * PyTorch default init for the FFN biases, `input_proj`, the heads, and N(0, 1) for `query_embed`.
 */
import { TensorSpec, InitSpec } from './param_store.js';
import { DetrConfig } from './config.js';
import { BOX_MLP_LAYERS } from './heads.js';

const T = (name: string, hfShape: number[], layout: TensorSpec['layout'], init: InitSpec): TensorSpec => ({
  name,
  hfShape,
  layout,
  init,
  trainable: true,
  group: 'transformer',
});

const ZEROS: InitSpec = { kind: 'zeros' };
const torchDefault = (fanIn: number): InitSpec => ({ kind: 'torchDefault', fanIn });

const layerNormSpecs = (prefix: string, d: number): TensorSpec[] => [
  T(`${prefix}.weight`, [d], 'plain', { kind: 'ones' }),
  T(`${prefix}.bias`, [d], 'plain', ZEROS),
];

function attentionSpecs(prefix: string, d: number): TensorSpec[] {
  const inProj: InitSpec = { kind: 'uniform', bound: Math.sqrt(6 / (d + 3 * d)) };
  return [
    ...['q_proj', 'k_proj', 'v_proj'].flatMap((n) => [
      T(`${prefix}.${n}.weight`, [d, d], 'linear', inProj),
      T(`${prefix}.${n}.bias`, [d], 'plain', ZEROS),
    ]),
    T(`${prefix}.out_proj.weight`, [d, d], 'linear', { kind: 'xavier' }),
    T(`${prefix}.out_proj.bias`, [d], 'plain', ZEROS),
  ];
}

const ffnSpecs = (prefix: string, d: number, f: number): TensorSpec[] => [
  T(`${prefix}.fc1.weight`, [f, d], 'linear', { kind: 'xavier' }),
  T(`${prefix}.fc1.bias`, [f], 'plain', torchDefault(d)),
  T(`${prefix}.fc2.weight`, [d, f], 'linear', { kind: 'xavier' }),
  T(`${prefix}.fc2.bias`, [d], 'plain', torchDefault(f)),
];

const encoderLayerSpecs = (pre: string, d: number, f: number): TensorSpec[] => [
  ...attentionSpecs(`${pre}.self_attn`, d),
  ...layerNormSpecs(`${pre}.self_attn_layer_norm`, d),
  ...ffnSpecs(pre, d, f),
  ...layerNormSpecs(`${pre}.final_layer_norm`, d),
];

const decoderLayerSpecs = (pre: string, d: number, f: number): TensorSpec[] => [
  ...attentionSpecs(`${pre}.self_attn`, d),
  ...layerNormSpecs(`${pre}.self_attn_layer_norm`, d),
  ...attentionSpecs(`${pre}.encoder_attn`, d),
  ...layerNormSpecs(`${pre}.encoder_attn_layer_norm`, d),
  ...ffnSpecs(pre, d, f),
  ...layerNormSpecs(`${pre}.final_layer_norm`, d),
];

/** Class head specs ([K+1, D] + bias): PyTorch default Linear init, as the original `class_embed`. */
export const classHeadSpecs = (numClasses: number, d: number): TensorSpec[] => [
  T('class_labels_classifier.weight', [numClasses + 1, d], 'linear', torchDefault(d)),
  T('class_labels_classifier.bias', [numClasses + 1], 'plain', torchDefault(d)),
];

function boxHeadSpecs(d: number): TensorSpec[] {
  return Array.from({ length: BOX_MLP_LAYERS }, (_, i) => {
    const out = i === BOX_MLP_LAYERS - 1 ? 4 : d;
    return [
      T(`bbox_predictor.layers.${i}.weight`, [out, d], 'linear', torchDefault(d)),
      T(`bbox_predictor.layers.${i}.bias`, [out], 'plain', torchDefault(d)),
    ];
  }).flat();
}

/** Every non-backbone tensor; `backboneChannels` = channels of the backbone's last feature map. */
export function transformerSpecs(cfg: DetrConfig, backboneChannels: number): TensorSpec[] {
  const d = cfg.dModel,
    f = cfg.ffnDim;
  return [
    T('model.input_projection.weight', [d, backboneChannels, 1, 1], 'conv', torchDefault(backboneChannels)),
    T('model.input_projection.bias', [d], 'plain', torchDefault(backboneChannels)),
    T('model.query_position_embeddings.weight', [cfg.numQueries, d], 'plain', { kind: 'normal', std: 1 }),
    ...Array.from({ length: cfg.encoderLayers }, (_, i) => encoderLayerSpecs(`model.encoder.layers.${i}`, d, f)).flat(),
    ...Array.from({ length: cfg.decoderLayers }, (_, i) => decoderLayerSpecs(`model.decoder.layers.${i}`, d, f)).flat(),
    ...layerNormSpecs('model.decoder.layernorm', d),
    ...classHeadSpecs(cfg.numClasses, d),
    ...boxHeadSpecs(d),
  ];
}
