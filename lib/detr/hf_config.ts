/**
 * DetrConfig ↔ Hugging Face `config.json` (`DetrConfig`, transformers `configuration_detr.py`), and a
 * config inferred from checkpoint tensor shapes when no config.json is at hand.
 * A config.json written here loads with `DetrForObjectDetection.from_pretrained(dir)` when the backbone
 * is a standard timm ResNet (width 64); the exact detrlab config is kept under the extra key `detrlab`
 * (transformers keeps unknown keys as attributes), so reading it back is lossless.
 */
import { DetrConfig, DetrOverrides, resolveDetr, validateDetr } from './config.js';
import { UserError } from '../params/user_error.js';

export const HF_BACKBONE_PREFIX = 'model.backbone.conv_encoder.model.';

/** Class names in label order (length K) and, optionally, their COCO category ids. */
export interface LabelInfo { names: string[]; categoryIds?: number[] }

/** True when transformers + timm can rebuild this backbone (`resnet18/34/50/101`, standard width). */
export const hfLoadable = (cfg: DetrConfig): boolean => cfg.backbone.width === 64;

/** The `config.json` that `DetrForObjectDetection.from_pretrained` reads. */
export function toHfConfig(cfg: DetrConfig, labels: LabelInfo): Record<string, unknown> {
  if (labels.names.length !== cfg.numClasses) throw new Error(`toHfConfig: ${labels.names.length} class names for numClasses ${cfg.numClasses}`);
  const id2label = Object.fromEntries(labels.names.map((n, i) => [String(i), n]));
  const label2id = Object.fromEntries(labels.names.map((n, i) => [n, i]));
  return {
    architectures: ['DetrForObjectDetection'], model_type: 'detr',
    id2label, label2id, num_labels: cfg.numClasses,
    d_model: cfg.dModel, num_queries: cfg.numQueries,
    encoder_layers: cfg.encoderLayers, decoder_layers: cfg.decoderLayers,
    encoder_attention_heads: cfg.nHeads, decoder_attention_heads: cfg.nHeads,
    encoder_ffn_dim: cfg.ffnDim, decoder_ffn_dim: cfg.ffnDim, num_hidden_layers: cfg.encoderLayers,
    activation_function: 'relu', dropout: cfg.dropout, attention_dropout: cfg.attentionDropout, activation_dropout: cfg.activationDropout,
    encoder_layerdrop: 0, decoder_layerdrop: 0, init_std: cfg.initStd, init_xavier_std: 1,
    auxiliary_loss: cfg.auxLoss, position_embedding_type: 'sine', is_encoder_decoder: true,
    backbone: `resnet${cfg.backbone.depth}`, use_timm_backbone: true, use_pretrained_backbone: false, backbone_config: null,
    backbone_kwargs: { out_indices: Array.from({ length: cfg.backbone.numStages }, (_, i) => i + 1), in_chans: 3 },
    num_channels: 3, dilation: false,
    class_cost: cfg.matcher.classCost, bbox_cost: cfg.matcher.bboxCost, giou_cost: cfg.matcher.giouCost,
    bbox_loss_coefficient: cfg.loss.bboxWeight, giou_loss_coefficient: cfg.loss.giouWeight, eos_coefficient: cfg.loss.eosCoef,
    mask_loss_coefficient: 1, dice_loss_coefficient: 1, torch_dtype: 'float32',
    detrlab: { config: cfg, ...(labels.categoryIds ? { categoryIds: labels.categoryIds } : {}) },
  };
}

const num = (j: Record<string, unknown>, k: string, where: string): number | undefined => {
  const v = j[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number') throw new UserError(`${where}: '${k}' must be a number, got ${JSON.stringify(v)}`);
  return v;
};

/** Reads a config.json (ours or Hugging Face's) → DetrConfig and the label names. */
export function fromHfConfig(json: unknown, where = 'config.json'): { cfg: DetrConfig; labels: LabelInfo } {
  if (typeof json !== 'object' || json === null) throw new UserError(`${where}: not a JSON object`);
  const j = json as Record<string, unknown>;
  if (j.model_type !== undefined && j.model_type !== 'detr') throw new UserError(`${where}: model_type is '${j.model_type}', not 'detr'`);
  const id2label = (j.id2label ?? {}) as Record<string, string>;
  const names = Object.keys(id2label).sort((a, b) => Number(a) - Number(b)).map((k) => id2label[k]);
  const own = j.detrlab as { config?: DetrConfig; categoryIds?: number[] } | undefined;
  if (own?.config) return { cfg: validateDetr(own.config), labels: { names, ...(own.categoryIds ? { categoryIds: own.categoryIds } : {}) } };
  const depth = /^resnet(18|34|50|101)$/.exec(String(j.backbone ?? 'resnet50'));
  if (!depth || j.use_timm_backbone === false) throw new UserError(`${where}: only timm ResNet-18/34/50/101 backbones are supported, got backbone=${JSON.stringify(j.backbone)} use_timm_backbone=${j.use_timm_backbone}`);
  const outIdx = (j.backbone_kwargs as { out_indices?: number[] } | null)?.out_indices;
  const o: DetrOverrides = {
    numClasses: names.length || num(j, 'num_labels', where), dModel: num(j, 'd_model', where), numQueries: num(j, 'num_queries', where),
    nHeads: num(j, 'encoder_attention_heads', where), encoderLayers: num(j, 'encoder_layers', where), decoderLayers: num(j, 'decoder_layers', where),
    ffnDim: num(j, 'encoder_ffn_dim', where), dropout: num(j, 'dropout', where), attentionDropout: num(j, 'attention_dropout', where),
    activationDropout: num(j, 'activation_dropout', where), initStd: num(j, 'init_std', where),
    ...(typeof j.auxiliary_loss === 'boolean' ? { auxLoss: j.auxiliary_loss } : {}),
    backbone: { depth: Number(depth[1]) as 18 | 34 | 50 | 101, width: 64, numStages: outIdx && outIdx.length === 3 ? 3 : 4 },
  };
  if (j.decoder_attention_heads !== undefined && j.decoder_attention_heads !== o.nHeads) throw new UserError(`${where}: encoder and decoder head counts differ; detrlab uses one nHeads`);
  return { cfg: resolveDetr(o), labels: { names } };
}

const layerCount = (names: string[], re: RegExp): number => new Set(names.map((n) => re.exec(n)?.[1]).filter((x) => x !== undefined)).size;

/** Architecture from tensor names/shapes alone (head count is not in the shapes: `nHeads`, default 8). */
export function configFromShapes(shapes: Map<string, number[]>, nHeads = 8, where = 'checkpoint'): DetrConfig {
  const need = (k: string) => {
    const s = shapes.get(k);
    if (!s) throw new UserError(`${where}: cannot infer the architecture: tensor '${k}' is missing`);
    return s;
  };
  const names = [...shapes.keys()];
  const B = HF_BACKBONE_PREFIX;
  const bottleneck = shapes.has(`${B}layer1.0.conv3.weight`);
  const blocks = (stage: number) => layerCount(names, new RegExp(`^${B.replace(/\./g, '\\.')}layer${stage}\\.(\\d+)\\.`));
  const depth = bottleneck ? (blocks(3) === 23 ? 101 : 50) : (blocks(1) === 3 ? 34 : 18);
  const [q, d] = need('model.query_position_embeddings.weight');
  const encoderLayers = layerCount(names, /^model\.encoder\.layers\.(\d+)\./);
  const ffnPrefix = encoderLayers > 0 ? 'model.encoder.layers.0' : 'model.decoder.layers.0';
  return resolveDetr({
    numClasses: need('class_labels_classifier.weight')[0] - 1, dModel: d, numQueries: q, nHeads,
    encoderLayers, decoderLayers: layerCount(names, /^model\.decoder\.layers\.(\d+)\./),
    ffnDim: need(`${ffnPrefix}.fc1.weight`)[0],
    backbone: { depth, width: need(`${B}conv1.weight`)[0], numStages: blocks(4) > 0 ? 4 : 3 },
  });
}
