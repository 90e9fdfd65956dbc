/**
 * detrlab's ResNet backbone ↔ the `backbone_config` of a transformers 5 `DetrConfig`, and the backbone
 * tensor names that go with it. transformers builds the backbone from that sub-config alone
 * (`backbone_utils.py:load_backbone` → `AutoBackbone.from_config`), in one of two ways:
 *
 *  - `timm_backbone` (`TimmBackbone`): `timm.create_model(backbone, features_only=True, out_indices,
 *    output_stride)` and nothing else, so only timm's registered ResNets can travel (`resnet18/34/50/101`:
 *    stem width 64, channels 64·2^i (×4 for bottlenecks)). Tensor names are torchvision/timm's
 *    (`conv1`, `layer1.0.conv1`, `layer1.0.downsample.0`), detrlab's own names. `facebook/detr-resnet-50`
 *    uses this.
 *  - `resnet` (`ResNetBackbone`, `modeling_resnet.py`): `embedding_size`, per-stage `hidden_sizes` and
 *    `depths`, `layer_type` basic|bottleneck, v1.5 stride on the 3×3 (`downsample_in_bottleneck` false),
 *    first stage unstrided (`downsample_in_first_stage` false), any number of stages. This expresses every
 *    width and stage count detrlab builds, under other tensor names (`embedder.embedder.convolution`,
 *    `encoder.stages.0.layers.0.layer.0.convolution`, `…shortcut.convolution`), renamed here on save/load.
 *
 * Which one is written follows from the architecture (`timmName`): a standard ResNet → timm (names
 * unchanged, loadable by older code), anything else → `resnet`. Neither supports what detrlab does not
 * build: dilation (timm `output_stride`), a feature map other than the last stage's, v1 bottlenecks.
 * On disk the prefix stays `model.backbone.conv_encoder.model.` for both (transformers 5's
 * `conversion_mapping.py` renames `backbone.conv_encoder` ↔ `backbone` on load and save).
 */
import { BackboneConfig, BACKBONE_PREFIX, backboneStages } from './backbone.js';
import { UserError } from '../params/user_error.js';

const DEPTHS: BackboneConfig['depth'][] = [18, 34, 50, 101];

/** timm's model name when the backbone is exactly a registered timm ResNet, else undefined. */
export function timmName(b: BackboneConfig): string | undefined {
  const s = backboneStages(b);
  const standard =
    s.stemWidth === 64 &&
    s.stages.every(
      (st, i) => st.outChannels === 64 * 2 ** i * (s.bottleneck ? 4 : 1) && st.stride === (i === 0 ? 1 : 2),
    );
  return standard ? `resnet${b.depth}` : undefined;
}

/** transformers' `ResNetConfig` (as JSON) describing this backbone, feature map = last stage. */
export function hfResnetConfig(b: BackboneConfig): Record<string, unknown> {
  const s = backboneStages(b);
  const bad = s.stages.findIndex((st, i) => st.stride !== (i === 0 ? 1 : 2));
  if (bad >= 0)
    throw new Error(
      `backbone stage ${bad + 1} has stride ${s.stages[bad].stride}; transformers' ResNet strides stage 1 by 1, later stages by 2`,
    );
  const n = s.stages.length;
  return {
    model_type: 'resnet',
    num_channels: 3,
    embedding_size: s.stemWidth,
    hidden_sizes: s.stages.map((st) => st.outChannels),
    depths: s.stages.map((st) => st.blocks),
    layer_type: s.bottleneck ? 'bottleneck' : 'basic',
    hidden_act: 'relu',
    downsample_in_first_stage: false,
    downsample_in_bottleneck: false,
    out_features: [`stage${n}`],
    out_indices: [n],
  };
}

/** The `backbone_config` for a transformers `DetrConfig`: timm when it can say it, else `resnet`. */
export function hfBackboneConfig(b: BackboneConfig): Record<string, unknown> {
  const timm = timmName(b);
  if (!timm) return hfResnetConfig(b);
  const n = b.numStages;
  return {
    model_type: 'timm_backbone',
    backbone: timm,
    num_channels: 3,
    features_only: true,
    out_indices: Array.from({ length: n }, (_, i) => i + 1),
    output_stride: null,
    freeze_batch_norm_2d: false,
  };
}

/** True when the checkpoint names this backbone's tensors the `resnet` way (not timm's). */
export const usesHfResnetNames = (b: BackboneConfig): boolean => timmName(b) === undefined;

const arr = (v: unknown): number[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;

/** Depth, width and stage count from a `backbone_config` (either kind); UserError if detrlab cannot build it. */
export function backboneFromHf(
  bc: Record<string, unknown>,
  where: string,
): Pick<BackboneConfig, 'depth' | 'width' | 'numStages'> {
  if (bc.model_type === 'timm_backbone') {
    const m = /^resnet(18|34|50|101)(\.|$)/.exec(String(bc.backbone));
    if (!m)
      throw new UserError(
        `${where}: backbone_config.backbone '${bc.backbone}' is not a timm ResNet-18/34/50/101, which is what detrlab builds`,
      );
    if (bc.output_stride !== undefined && bc.output_stride !== null && bc.output_stride !== 32) {
      throw new UserError(
        `${where}: backbone_config.output_stride ${bc.output_stride} (dilation) is not supported by detrlab`,
      );
    }
    const idx = arr(bc.out_indices) ?? [4];
    const last = idx[idx.length - 1] === -1 ? 4 : idx[idx.length - 1];
    return { depth: Number(m[1]) as BackboneConfig['depth'], width: 64, numStages: last as 3 | 4 };
  }
  if (bc.model_type === 'resnet') {
    const depths = arr(bc.depths),
      hidden = arr(bc.hidden_sizes);
    const outs = Array.isArray(bc.out_features) ? bc.out_features : undefined;
    if (!depths || !hidden) throw new UserError(`${where}: backbone_config (resnet) lacks depths or hidden_sizes`);
    if (outs && (outs.length !== 1 || outs[0] !== `stage${depths.length}`)) {
      throw new UserError(
        `${where}: backbone_config.out_features ${JSON.stringify(outs)}: detrlab uses the last stage's features only`,
      );
    }
    for (const d of DEPTHS) {
      const cand = { depth: d, width: Number(bc.embedding_size ?? 64), numStages: depths.length as 3 | 4 };
      let want: Record<string, unknown>;
      try {
        want = hfResnetConfig({ ...cand, trainableFrom: 'all' });
      } catch {
        continue;
      }
      const same = (k: string, dflt: unknown) => JSON.stringify(bc[k] ?? dflt) === JSON.stringify(want[k]);
      if (
        same('depths', null) &&
        same('hidden_sizes', null) &&
        same('layer_type', 'bottleneck') &&
        same('downsample_in_first_stage', false) &&
        same('downsample_in_bottleneck', false)
      )
        return cand;
    }
    throw new UserError(
      `${where}: backbone_config (resnet: layer_type ${bc.layer_type}, depths ${JSON.stringify(depths)}, hidden_sizes ${JSON.stringify(hidden)}, embedding_size ${bc.embedding_size}) is not a ResNet-18/34/50/101 layout detrlab builds`,
    );
  }
  throw new UserError(
    `${where}: backbone_config.model_type '${bc.model_type}' is not supported (timm_backbone or resnet)`,
  );
}

// ── tensor names: detrlab/timm ↔ transformers ResNetBackbone (under the same prefix) ─────────────────
const P = BACKBONE_PREFIX.replace(/\./g, '\\.');
const STAT = '(weight|bias|running_mean|running_var)';
const TO_HF: Array<[RegExp, (m: RegExpExecArray) => string]> = [
  [new RegExp(`^${P}conv1\\.weight$`), () => 'embedder.embedder.convolution.weight'],
  [new RegExp(`^${P}bn1\\.${STAT}$`), (m) => `embedder.embedder.normalization.${m[1]}`],
  [
    new RegExp(`^${P}layer(\\d+)\\.(\\d+)\\.conv(\\d)\\.weight$`),
    (m) => `encoder.stages.${+m[1] - 1}.layers.${m[2]}.layer.${+m[3] - 1}.convolution.weight`,
  ],
  [
    new RegExp(`^${P}layer(\\d+)\\.(\\d+)\\.bn(\\d)\\.${STAT}$`),
    (m) => `encoder.stages.${+m[1] - 1}.layers.${m[2]}.layer.${+m[3] - 1}.normalization.${m[4]}`,
  ],
  [
    new RegExp(`^${P}layer(\\d+)\\.(\\d+)\\.downsample\\.0\\.weight$`),
    (m) => `encoder.stages.${+m[1] - 1}.layers.${m[2]}.shortcut.convolution.weight`,
  ],
  [
    new RegExp(`^${P}layer(\\d+)\\.(\\d+)\\.downsample\\.1\\.${STAT}$`),
    (m) => `encoder.stages.${+m[1] - 1}.layers.${m[2]}.shortcut.normalization.${m[3]}`,
  ],
];
const FROM_HF: Array<[RegExp, (m: RegExpExecArray) => string]> = [
  [new RegExp(`^${P}embedder\\.embedder\\.convolution\\.weight$`), () => 'conv1.weight'],
  [new RegExp(`^${P}embedder\\.embedder\\.normalization\\.${STAT}$`), (m) => `bn1.${m[1]}`],
  [
    new RegExp(`^${P}encoder\\.stages\\.(\\d+)\\.layers\\.(\\d+)\\.layer\\.(\\d)\\.convolution\\.weight$`),
    (m) => `layer${+m[1] + 1}.${m[2]}.conv${+m[3] + 1}.weight`,
  ],
  [
    new RegExp(`^${P}encoder\\.stages\\.(\\d+)\\.layers\\.(\\d+)\\.layer\\.(\\d)\\.normalization\\.${STAT}$`),
    (m) => `layer${+m[1] + 1}.${m[2]}.bn${+m[3] + 1}.${m[4]}`,
  ],
  [
    new RegExp(`^${P}encoder\\.stages\\.(\\d+)\\.layers\\.(\\d+)\\.shortcut\\.convolution\\.weight$`),
    (m) => `layer${+m[1] + 1}.${m[2]}.downsample.0.weight`,
  ],
  [
    new RegExp(`^${P}encoder\\.stages\\.(\\d+)\\.layers\\.(\\d+)\\.shortcut\\.normalization\\.${STAT}$`),
    (m) => `layer${+m[1] + 1}.${m[2]}.downsample.1.${m[3]}`,
  ],
];

function rename(name: string, rules: typeof TO_HF): string {
  for (const [re, f] of rules) {
    const m = re.exec(name);
    if (m) return BACKBONE_PREFIX + f(m);
  }
  return name;
}

/** detrlab's (timm) backbone tensor name → transformers `ResNetBackbone`'s; other names unchanged. */
export const toHfResnetName = (name: string): string => rename(name, TO_HF);
/** transformers `ResNetBackbone` tensor name → detrlab's (timm) name; other names unchanged. */
export const fromHfResnetName = (name: string): string => rename(name, FROM_HF);

/** A name-keyed map with any `ResNetBackbone` names turned into detrlab's (same values, same order). */
export function withDetrlabBackboneNames<T>(m: Map<string, T>): Map<string, T> {
  if (![...m.keys()].some((n) => n.startsWith(`${BACKBONE_PREFIX}embedder.`))) return m;
  return new Map([...m].map(([n, v]) => [fromHfResnetName(n), v]));
}
