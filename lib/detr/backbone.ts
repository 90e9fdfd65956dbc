/**
 * DETR's ResNet backbone: torchvision/timm ResNet v1.5 (stride on the 3×3 conv of a bottleneck) with
 * frozen batch norm, under Hugging Face's names (transformers `modeling_detr.py` `DetrConvEncoder` with a timm
 * backbone).
 * NHWC inside; PyTorch padding exactly: every conv pads k//2 on all sides (explicit pad, never TF
 * 'same', which pads bottom/right only on odd totals), the stem max-pool 3×3/2 pads 1 and padding
 * never wins (tfjs pooling skips padded positions, as PyTorch's -inf padding does).
 *
 * Dims: B batch, H×W input, h×w feature map (H/16 or H/32), C channels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamStore, TensorSpec } from './param_store.js';
import { withoutTape } from '../engine/async_grads.js';

export interface BackboneConfig {
  depth: 18 | 34 | 50 | 101;
  /** Stem channels: 64 for the real ResNet; smaller for CPU demos (every stage scales with it). */
  width: number;
  /** 4 → stride 32 (C5, the real DETR); 3 → stride 16 (CPU demo). */
  numStages: 3 | 4;
  /** 'layer2': HF's rule (conv1 + layer1 frozen); 'all'; 'none'. Batch norm is frozen unless `batchNorm` is 'train'. */
  trainableFrom: 'layer2' | 'all' | 'none';
  /**
   * 'train' (classification pre-training only): γ and β of trainable layers train, and a forward given a
   * `BatchNormStats` normalises with the batch's statistics (torch.nn.BatchNorm2d in train mode). Absent or
   * 'frozen': DETR's DetrFrozenBatchNorm2d with the running statistics.
   */
  batchNorm?: 'frozen' | 'train';
}

export const BACKBONE_PREFIX = 'model.backbone.conv_encoder.model.';
/** DetrFrozenBatchNorm2d's hard-coded epsilon. */
export const FROZEN_BN_EPS = 1e-5;
const STAGE_BLOCKS: Record<BackboneConfig['depth'], number[]> = {
  18: [2, 2, 2, 2],
  34: [3, 4, 6, 3],
  50: [3, 4, 6, 3],
  101: [3, 4, 23, 3],
};

/** One conv + its frozen batch norm (names without the prefix and the `.weight` suffix). */
interface ConvDef {
  conv: string;
  bn: string;
  cin: number;
  cout: number;
  k: number;
  stride: number;
}
interface BlockDef {
  convs: ConvDef[];
  downsample?: ConvDef;
}
interface Layout {
  stem: ConvDef;
  blocks: BlockDef[];
  outChannels: number;
}

const isBottleneck = (cfg: BackboneConfig): boolean => cfg.depth >= 50;

function blockDef(name: string, cin: number, planes: number, stride: number, bottleneck: boolean): BlockDef {
  const c = (i: number, ci: number, co: number, k: number, s: number): ConvDef => ({
    conv: `${name}.conv${i}`,
    bn: `${name}.bn${i}`,
    cin: ci,
    cout: co,
    k,
    stride: s,
  });
  const out = bottleneck ? 4 * planes : planes;
  const convs = bottleneck
    ? [c(1, cin, planes, 1, 1), c(2, planes, planes, 3, stride), c(3, planes, out, 1, 1)] // v1.5: stride on the 3×3
    : [c(1, cin, planes, 3, stride), c(2, planes, planes, 3, 1)];
  const downsample =
    stride !== 1 || cin !== out
      ? { conv: `${name}.downsample.0`, bn: `${name}.downsample.1`, cin, cout: out, k: 1, stride }
      : undefined;
  return { convs, downsample };
}

function layout(cfg: BackboneConfig): Layout {
  const blocks: BlockDef[] = [];
  let cin = cfg.width;
  for (let L = 1; L <= cfg.numStages; L++) {
    const planes = cfg.width * 2 ** (L - 1);
    for (let b = 0; b < STAGE_BLOCKS[cfg.depth][L - 1]; b++) {
      const blk = blockDef(`layer${L}.${b}`, cin, planes, b === 0 && L > 1 ? 2 : 1, isBottleneck(cfg));
      blocks.push(blk);
      cin = blk.convs[blk.convs.length - 1].cout;
    }
  }
  return { stem: { conv: 'conv1', bn: 'bn1', cin: 3, cout: cfg.width, k: 7, stride: 2 }, blocks, outChannels: cin };
}

/** Channels of the feature map: 2048 for ResNet-50/101 with 4 stages, 512 for 18/34. */
export const backboneOutChannels = (cfg: BackboneConfig): number => layout(cfg).outChannels;

function convTrainable(cfg: BackboneConfig, name: string): boolean {
  if (cfg.trainableFrom === 'all') return true;
  if (cfg.trainableFrom === 'none') return false;
  return /layer[234]/.test(name); // HF DetrConvEncoder / DETR backbone.py: freeze what is not layer2–4
}

function convSpecs(cfg: BackboneConfig, c: ConvDef): TensorSpec[] {
  const affine = cfg.batchNorm === 'train' && convTrainable(cfg, c.conv);
  const bn = (field: string, kind: 'ones' | 'zeros'): TensorSpec => ({
    name: `${BACKBONE_PREFIX}${c.bn}.${field}`,
    hfShape: [c.cout],
    layout: 'plain',
    trainable: affine && (field === 'weight' || field === 'bias'),
    group: 'backbone',
    init: { kind },
  });
  return [
    {
      name: `${BACKBONE_PREFIX}${c.conv}.weight`,
      hfShape: [c.cout, c.cin, c.k, c.k],
      layout: 'conv',
      trainable: convTrainable(cfg, c.conv),
      group: 'backbone',
      init: { kind: 'kaimingOut' },
    },
    bn('weight', 'ones'),
    bn('bias', 'zeros'),
    bn('running_mean', 'zeros'),
    bn('running_var', 'ones'),
  ];
}

/** Every backbone tensor in checkpoint (state_dict) order, with HF names and shapes. */
export function backboneSpecs(cfg: BackboneConfig): TensorSpec[] {
  const lay = layout(cfg);
  const convs = [lay.stem, ...lay.blocks.flatMap((b) => (b.downsample ? [...b.convs, b.downsample] : b.convs))];
  return convs.flatMap((c) => convSpecs(cfg, c));
}

/** DetrFrozenBatchNorm2d as a per-channel affine: s = γ/√(σ² + ε), b = β − μ·s (y = x·s + b). */
function frozenBn(p: ParamStore, bn: string): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
  const get = (n: string): tf.Tensor => p.get(`${BACKBONE_PREFIX}${bn}.${n}`);
  const scale = tf.mul(get('weight'), tf.rsqrt(tf.add(get('running_var'), FROZEN_BN_EPS))) as tf.Tensor1D; // [C]
  return { scale, shift: tf.sub(get('bias'), tf.mul(get('running_mean'), scale)) as tf.Tensor1D }; // [C]
}

/** torch.nn.BatchNorm2d's defaults: running = (1 − momentum)·running + momentum·batch statistic. */
export const BN_MOMENTUM = 0.1;

/**
 * Batch statistics of one training forward in batch-norm train mode, per BN layer: the batch mean and the
 * unbiased variance (n/(n−1) × the biased one the normalisation used), as torch.nn.BatchNorm2d records them.
 * `update` then moves the running statistics: running ← (1 − m)·running + m·batch (m = BN_MOMENTUM).
 */
export class BatchNormStats {
  readonly batch = new Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>();

  record(bn: string, mean: tf.Tensor1D, unbiasedVariance: tf.Tensor1D): void {
    if (this.batch.has(bn)) throw new Error(`batch norm ${bn} recorded twice in one forward`);
    this.batch.set(bn, { mean: tf.keep(mean), variance: tf.keep(unbiasedVariance) });
  }

  /** Writes the new running statistics into `p` and releases the batch statistics. */
  update(p: ParamStore, momentum = BN_MOMENTUM): void {
    for (const [bn, s] of this.batch) {
      for (const [field, v] of [
        ['running_mean', s.mean],
        ['running_var', s.variance],
      ] as const) {
        const name = `${BACKBONE_PREFIX}${bn}.${field}`;
        p.set(
          name,
          tf.tidy(() => tf.add(tf.mul(p.get(name), 1 - momentum), tf.mul(v, momentum))),
          true,
        );
      }
    }
    this.dispose();
  }

  dispose(): void {
    for (const s of this.batch.values()) tf.dispose([s.mean, s.variance]);
    this.batch.clear();
  }
}

/**
 * Batch norm in train mode over z [B,h,w,C] (torch.nn.BatchNorm2d.forward in training): y = (z − μ)/√(σ² + ε)·γ + β,
 * μ and the biased σ² over batch and space; also returns the unbiased variance the running statistic takes.
 */
export function batchNormTrain(
  z: tf.Tensor4D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
): { y: tf.Tensor4D; mean: tf.Tensor1D; unbiasedVariance: tf.Tensor1D } {
  const { mean, variance } = tf.moments(z, [0, 1, 2]); // [C], biased
  const n = z.shape[0] * z.shape[1] * z.shape[2];
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, FROZEN_BN_EPS))); // [C]
  return {
    y: tf.add(tf.mul(tf.sub(z, mean), scale), beta) as tf.Tensor4D,
    mean: mean as tf.Tensor1D,
    unbiasedVariance: tf.mul(variance, n / Math.max(1, n - 1)) as tf.Tensor1D,
  };
}

/** conv → batch norm in train mode (→ ReLU); the batch statistics go to `stats`. */
function convBnTrain(
  p: ParamStore,
  c: ConvDef,
  x: tf.Tensor4D,
  relu: boolean,
  padding: [[number, number], [number, number], [number, number], [number, number]],
  stats: BatchNormStats,
): tf.Tensor4D {
  const get = (n: string): tf.Tensor => p.get(`${BACKBONE_PREFIX}${c.bn}.${n}`);
  const z = tf.conv2d(x, p.get(`${BACKBONE_PREFIX}${c.conv}.weight`) as tf.Tensor4D, c.stride, padding); // [B,h,w,C]
  const { y, mean, unbiasedVariance } = batchNormTrain(z, get('weight'), get('bias'));
  stats.record(c.bn, mean, unbiasedVariance);
  return relu ? tf.relu(y) : y;
}

/**
 * conv → frozen BN (→ ReLU). While a trainable conv is being differentiated, BN is folded into it
 * (W·s with bias b, one fused conv): its weights are new tensors every step anyway, and folding saves
 * the elementwise affine and its gradient. Otherwise (inference, frozen layers) W is used as is, so the
 * backend's packed copy of it is reused across calls, and the affine follows. The two agree to float32
 * rounding.
 */
function convBn(p: ParamStore, c: ConvDef, x: tf.Tensor4D, relu: boolean, stats?: BatchNormStats): tf.Tensor4D {
  const name = `${BACKBONE_PREFIX}${c.conv}.weight`;
  const w = p.get(name) as tf.Variable<tf.Rank.R4>; // [k, k, cin, cout]
  const pad = c.k >> 1;
  const padding: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ];
  if (stats) return convBnTrain(p, c, x, relu, padding, stats);
  const { scale, shift } = frozenBn(p, c.bn);
  if (p.specs.get(name)?.trainable && tf.engine().state.gradientDepth > 0) {
    const folded = tf.mul(w, scale) as tf.Tensor4D; // [k, k, cin, cout]
    return tf.fused.conv2d({
      x,
      filter: folded,
      strides: c.stride,
      pad: padding,
      bias: shift,
      activation: relu ? 'relu' : 'linear',
    });
  }
  const y = tf.add(tf.mul(tf.conv2d(x, w, c.stride, padding), scale), shift) as tf.Tensor4D; // [B, h, w, cout]
  return relu ? tf.relu(y) : y;
}

function residualBlock(p: ParamStore, blk: BlockDef, x: tf.Tensor4D, stats?: BatchNormStats): tf.Tensor4D {
  let h = x;
  blk.convs.forEach((c, i) => {
    h = convBn(p, c, h, i < blk.convs.length - 1, stats);
  }); // [B, h, w, out]
  const shortcut = blk.downsample ? convBn(p, blk.downsample, x, false, stats) : x; // [B, h, w, out]
  return tf.relu(tf.add(h, shortcut)) as tf.Tensor4D;
}

/**
 * x [B, H, W, 3] (normalised pixels) → features [B, h, w, backboneOutChannels(cfg)]. With `stats` (only for a
 * backbone whose `batchNorm` is 'train'), every batch norm uses the batch's statistics and records them there.
 */
export function backboneForward(
  p: ParamStore,
  cfg: BackboneConfig,
  x: tf.Tensor4D,
  stats?: BatchNormStats,
): tf.Tensor4D {
  if (stats && cfg.batchNorm !== 'train') throw new Error("batch statistics need a backbone with batchNorm 'train'");
  const lay = layout(cfg);
  // The leading layers with nothing trainable (HF's rule: conv1 and layer1) run off the gradient tape, as in
  // PyTorch, whose autograd records nothing where no input requires grad: their activations are not kept for
  // a backward pass that never reaches them (for ResNet-50 at 800×1066, over a gigabyte per image). Pixels
  // are never differentiated. With batch statistics every layer stays on the tape (its statistics are read).
  const offTape = !stats && !convTrainable(cfg, lay.stem.conv);
  const frozen = (b: BlockDef) =>
    ![...b.convs, ...(b.downsample ? [b.downsample] : [])].some((c) => convTrainable(cfg, c.conv));
  let nFrozen = 0;
  if (offTape) while (nFrozen < lay.blocks.length && frozen(lay.blocks[nFrozen])) nFrozen++;
  return tf.tidy(() => {
    const head = (): tf.Tensor4D => {
      let h = convBn(p, lay.stem, x, true, stats); // [B, H/2, W/2, width]
      h = tf.maxPool(h, 3, 2, 1); // [B, H/4, W/4, width]
      for (const blk of lay.blocks.slice(0, nFrozen)) h = residualBlock(p, blk, h, stats);
      return h;
    };
    let h = offTape ? withoutTape(() => tf.tidy(head)) : head();
    for (const blk of lay.blocks.slice(nFrozen)) h = residualBlock(p, blk, h, stats); // [B, h, w, C]
    return h;
  });
}

/** The backbone's shape as stages (what a config file must describe to rebuild it). */
export interface BackboneStages {
  stemWidth: number;
  bottleneck: boolean;
  /** Per stage (layer1, layer2, …): residual blocks, output channels, stride of the first block. */
  stages: Array<{ blocks: number; outChannels: number; stride: number }>;
}

/** `layout(cfg)` summarised per stage (read by hf_backbone.ts to write/verify transformers configs). */
export function backboneStages(cfg: BackboneConfig): BackboneStages {
  const lay = layout(cfg);
  const stages: BackboneStages['stages'] = [];
  for (const blk of lay.blocks) {
    const stage = Number(/^layer(\d+)\./.exec(blk.convs[0].conv)![1]) - 1;
    const out = blk.convs[blk.convs.length - 1].cout;
    if (!stages[stage])
      stages[stage] = { blocks: 0, outChannels: out, stride: Math.max(...blk.convs.map((c) => c.stride)) };
    stages[stage].blocks++;
    stages[stage].outChannels = out;
  }
  return { stemWidth: lay.stem.cout, bottleneck: isBottleneck(cfg), stages };
}
