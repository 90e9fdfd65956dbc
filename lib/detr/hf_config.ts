/**
 * DetrConfig ↔ Hugging Face `config.json` (`DetrConfig`, transformers `configuration_detr.py`), and a
 * config inferred from checkpoint tensor shapes when no config.json is at hand.
 * A config.json written here loads as is, offline, with transformers 5's
 * `DetrForObjectDetection.from_pretrained(dir)`:
 *  - the backbone is described by `backbone_config` (hf_backbone.ts: a timm ResNet, or transformers' own
 *    ResNet for other widths); no `backbone`/`backbone_kwargs`, which make transformers look on the Hub;
 *  - fields transformers declares `float` are written with a decimal point (`1.0`; its strict config
 *    dataclass rejects `1`), fields it declares `int` are written only when integral;
 *  - `auxiliary_loss` is false: detrlab's decoder is the original DETR one (facebookresearch/detr
 *    `TransformerDecoder`: each layer's un-normed output feeds the next; auxiliary outputs are layer-normed
 *    copies). transformers' `DetrDecoder` with `auxiliary_loss=True` feeds the normed states forward
 *    instead, a different network; with false it computes exactly the original one. Whether detrlab
 *    trains with auxiliary losses is kept in `detrlab.config.auxLoss`.
 * The exact detrlab config is kept under the extra key `detrlab` (transformers keeps unknown keys as
 * attributes and saves them back), so reading it back is lossless.
 */
import { DetrConfig, DetrOverrides, resolveDetr, validateDetr } from './config.js';
import { hfBackboneConfig, backboneFromHf, withDetrlabBackboneNames } from './hf_backbone.js';
import { UserError } from '../params/user_error.js';
import { BACKBONE_PREFIX } from './backbone.js';

/** Class names in label order (length K) and, optionally, their COCO category ids. */
export interface LabelInfo {
  names: string[];
  categoryIds?: number[];
}

/** What the weights expect of the decoder, stated in every config.json written (see the header). */
export const DECODER_SEMANTICS =
  'original DETR (facebookresearch/detr TransformerDecoder): each decoder layer feeds ' +
  'its un-normed output to the next; auxiliary outputs are layer-normed copies. In transformers this is ' +
  'DetrForObjectDetection with auxiliary_loss=false.';

/** Keys transformers' DetrConfig declares `float` (strict: an integral JSON number is refused). */
const HF_FLOAT_KEYS = ['init_std', 'init_xavier_std', 'eos_coefficient'];

const intOrOmit = (k: string, v: number): Record<string, number> => (Number.isInteger(v) ? { [k]: v } : {});

/** The `config.json` object that `DetrForObjectDetection.from_pretrained` reads (write it with `hfConfigJson`). */
export function toHfConfig(cfg: DetrConfig, labels: LabelInfo): Record<string, unknown> {
  if (labels.names.length !== cfg.numClasses)
    throw new Error(`toHfConfig: ${labels.names.length} class names for numClasses ${cfg.numClasses}`);
  const id2label = Object.fromEntries(labels.names.map((n, i) => [String(i), n]));
  const label2id = Object.fromEntries(labels.names.map((n, i) => [n, i]));
  return {
    architectures: ['DetrForObjectDetection'],
    model_type: 'detr',
    id2label,
    label2id,
    num_labels: cfg.numClasses,
    d_model: cfg.dModel,
    num_queries: cfg.numQueries,
    encoder_layers: cfg.encoderLayers,
    decoder_layers: cfg.decoderLayers,
    encoder_attention_heads: cfg.nHeads,
    decoder_attention_heads: cfg.nHeads,
    encoder_ffn_dim: cfg.ffnDim,
    decoder_ffn_dim: cfg.ffnDim,
    activation_function: 'relu',
    dropout: cfg.dropout,
    attention_dropout: cfg.attentionDropout,
    activation_dropout: cfg.activationDropout,
    encoder_layerdrop: 0,
    decoder_layerdrop: 0,
    init_std: cfg.initStd,
    init_xavier_std: 1,
    auxiliary_loss: false,
    position_embedding_type: 'sine',
    is_encoder_decoder: true,
    backbone_config: hfBackboneConfig(cfg.backbone),
    num_channels: 3,
    dilation: false,
    ...intOrOmit('class_cost', cfg.matcher.classCost),
    ...intOrOmit('bbox_cost', cfg.matcher.bboxCost),
    ...intOrOmit('giou_cost', cfg.matcher.giouCost),
    ...intOrOmit('bbox_loss_coefficient', cfg.loss.bboxWeight),
    ...intOrOmit('giou_loss_coefficient', cfg.loss.giouWeight),
    eos_coefficient: cfg.loss.eosCoef,
    mask_loss_coefficient: 1,
    dice_loss_coefficient: 1,
    dtype: 'float32',
    detrlab: {
      config: cfg,
      decoder_semantics: DECODER_SEMANTICS,
      ...(labels.categoryIds ? { categoryIds: labels.categoryIds } : {}),
    },
  };
}

/** JSON text of `toHfConfig`, with transformers' float fields written as floats (`1.0`, not `1`). */
export function hfConfigJson(cfg: DetrConfig, labels: LabelInfo): string {
  const text = JSON.stringify(toHfConfig(cfg, labels), null, 2);
  // Top-level keys only (indent 2); the nested detrlab config uses camelCase names, so no clash either way.
  return text.replace(new RegExp(`^(  "(?:${HF_FLOAT_KEYS.join('|')})": )(-?\\d+)(,?)$`, 'gm'), '$1$2.0$3') + '\n';
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
  if (j.model_type !== undefined && j.model_type !== 'detr')
    throw new UserError(`${where}: model_type is '${j.model_type}', not 'detr'`);
  const id2label = (j.id2label ?? {}) as Record<string, string>;
  const names = Object.keys(id2label)
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => id2label[k]);
  const own = j.detrlab as { config?: DetrConfig; categoryIds?: number[] } | undefined;
  if (own?.config)
    return {
      cfg: validateDetr(own.config),
      labels: { names, ...(own.categoryIds ? { categoryIds: own.categoryIds } : {}) },
    };
  if (j.dilation === true) throw new UserError(`${where}: dilation (DC5) is not supported by detrlab`);
  let backbone;
  if (j.backbone_config && typeof j.backbone_config === 'object') {
    backbone = backboneFromHf(j.backbone_config as Record<string, unknown>, where);
  } else {
    // transformers 4.x configs (e.g. facebook/detr-resnet-50): a timm model name + backbone_kwargs
    const kw = (j.backbone_kwargs ?? {}) as Record<string, unknown>;
    if (j.use_timm_backbone === false)
      throw new UserError(`${where}: use_timm_backbone is false but there is no backbone_config`);
    backbone = backboneFromHf(
      {
        model_type: 'timm_backbone',
        backbone: j.backbone ?? 'resnet50',
        out_indices: kw.out_indices ?? [1, 2, 3, 4],
        output_stride: kw.output_stride,
      },
      where,
    );
  }
  const o: DetrOverrides = {
    numClasses: names.length || num(j, 'num_labels', where),
    dModel: num(j, 'd_model', where),
    numQueries: num(j, 'num_queries', where),
    nHeads: num(j, 'encoder_attention_heads', where),
    encoderLayers: num(j, 'encoder_layers', where),
    decoderLayers: num(j, 'decoder_layers', where),
    ffnDim: num(j, 'encoder_ffn_dim', where),
    dropout: num(j, 'dropout', where),
    attentionDropout: num(j, 'attention_dropout', where),
    activationDropout: num(j, 'activation_dropout', where),
    initStd: num(j, 'init_std', where),
    ...(typeof j.auxiliary_loss === 'boolean' ? { auxLoss: j.auxiliary_loss } : {}),
    backbone,
  };
  if (j.decoder_attention_heads !== undefined && j.decoder_attention_heads !== o.nHeads)
    throw new UserError(`${where}: encoder and decoder head counts differ; detrlab uses one nHeads`);
  return { cfg: resolveDetr(o), labels: { names } };
}

const layerCount = (names: string[], re: RegExp): number =>
  new Set(names.map((n) => re.exec(n)?.[1]).filter((x) => x !== undefined)).size;

/** Architecture from tensor names/shapes alone (head count is not in the shapes: `nHeads`, default 8). */
export function configFromShapes(anyShapes: Map<string, number[]>, nHeads = 8, where = 'checkpoint'): DetrConfig {
  const shapes = withDetrlabBackboneNames(anyShapes);
  const need = (k: string) => {
    const s = shapes.get(k);
    if (!s) throw new UserError(`${where}: cannot infer the architecture: tensor '${k}' is missing`);
    return s;
  };
  const names = [...shapes.keys()];
  const B = BACKBONE_PREFIX;
  const bottleneck = shapes.has(`${B}layer1.0.conv3.weight`);
  const blocks = (stage: number) =>
    layerCount(names, new RegExp(`^${B.replace(/\./g, '\\.')}layer${stage}\\.(\\d+)\\.`));
  const depth = bottleneck ? (blocks(3) === 23 ? 101 : 50) : blocks(1) === 3 ? 34 : 18;
  const [q, d] = need('model.query_position_embeddings.weight');
  const encoderLayers = layerCount(names, /^model\.encoder\.layers\.(\d+)\./);
  const ffnPrefix = encoderLayers > 0 ? 'model.encoder.layers.0' : 'model.decoder.layers.0';
  return resolveDetr({
    numClasses: need('class_labels_classifier.weight')[0] - 1,
    dModel: d,
    numQueries: q,
    nHeads,
    encoderLayers,
    decoderLayers: layerCount(names, /^model\.decoder\.layers\.(\d+)\./),
    ffnDim: need(`${ffnPrefix}.fc1.weight`)[0],
    backbone: { depth, width: need(`${B}conv1.weight`)[0], numStages: blocks(4) > 0 ? 4 : 3 },
  });
}
