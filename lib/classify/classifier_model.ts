/**
 * The crop classifier: DETR's ResNet backbone (same tensors, same HF names, frozen batch norm) → global
 * average pool → a new linear head. This is torchvision's / timm's ResNet classifier (`avgpool` + `fc`)
 * on DETR's backbone, so a DETR checkpoint's backbone tensors load into it unchanged.
 *
 * Dims: B batch, S image side, h×w feature map, C backbone channels, K classes.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  BackboneConfig,
  backboneForward,
  backboneOutChannels,
  backboneSpecs,
  BatchNormStats,
} from '../detr/backbone.js';
import { ParamStore, TensorSpec } from '../detr/param_store.js';
import { Rng } from '../engine/rng.js';

/** The new head's tensor names (PyTorch layout [K, C] and [K] in checkpoints). */
export const HEAD_WEIGHT = 'classifier.weight';
export const HEAD_BIAS = 'classifier.bias';

export interface ClassifierConfig {
  backbone: BackboneConfig;
  numClasses: number;
}

/** Backbone specs (checkpoint order) + the head, initialised as PyTorch's nn.Linear default (U(±1/√C)). */
export function classifierSpecs(cfg: ClassifierConfig): TensorSpec[] {
  const c = backboneOutChannels(cfg.backbone);
  const head = (name: string, hfShape: number[]): TensorSpec => ({
    name,
    hfShape,
    layout: hfShape.length === 2 ? 'linear' : 'plain',
    trainable: true,
    group: 'head',
    init: { kind: 'torchDefault', fanIn: c },
  });
  return [...backboneSpecs(cfg.backbone), head(HEAD_WEIGHT, [cfg.numClasses, c]), head(HEAD_BIAS, [cfg.numClasses])];
}

export class CropClassifier {
  constructor(
    readonly cfg: ClassifierConfig,
    readonly params: ParamStore,
  ) {}

  /** Every tensor freshly initialised from `rng` (spec order). */
  static create(cfg: ClassifierConfig, rng: Rng): CropClassifier {
    return new CropClassifier(cfg, new ParamStore(classifierSpecs(cfg)).initAll(rng));
  }

  /** Pooled backbone features: x [B, S, S, 3] (ImageNet-normalised) → [B, C]; `stats`: batch-norm train mode. */
  features(x: tf.Tensor4D, stats?: BatchNormStats): tf.Tensor2D {
    return tf.tidy(() => {
      const f = backboneForward(this.params, this.cfg.backbone, x, stats); // [B, h, w, C]
      return tf.mean(f, [1, 2]) as tf.Tensor2D; // [B, C]
    });
  }

  /** Logits [B, K]. */
  forward(x: tf.Tensor4D, stats?: BatchNormStats): tf.Tensor2D {
    return tf.tidy(() => {
      const pooled = this.features(x, stats); // [B, C]
      const w = this.params.get(HEAD_WEIGHT); // [C, K]
      return tf.add(tf.matMul(pooled, w), this.params.get(HEAD_BIAS)) as tf.Tensor2D; // [B, K]
    });
  }

  dispose(): void {
    this.params.dispose();
  }
}
