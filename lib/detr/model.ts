/**
 * The DETR detector: backbone → mask at feature resolution → transformer + heads.
 *
 *   const model = DetrModel.create(resolveDetr({ numClasses: 10 }), new Rng(0));
 *   const out = model.forward(pixels, pixelMask);        // eval: no dropout
 *   tf.dispose(out); model.dispose();
 *
 * Inputs are NHWC: pixels [B, H, W, 3] already normalised (ImageNet mean/std), padded bottom/right;
 * pixelMask [B, H, W] with 1 on real pixels and 0 on padding.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ParamStore } from './param_store.js';
import { DetrConfig, validateDetr } from './config.js';
import { backboneForward } from './backbone.js';
import { detrSpecs } from './hf_names.js';
import { downsampleMask } from './position_embedding.js';
import { detrFromFeatures, DetrOutput } from './detr_forward.js';
import { Rng } from '../engine/rng.js';

export class DetrModel {
  constructor(
    readonly cfg: DetrConfig,
    readonly params: ParamStore,
  ) {}

  /** A model with freshly initialised tensors (drawn from `rng` in spec order). */
  static create(cfg: DetrConfig, rng: Rng): DetrModel {
    return new DetrModel(validateDetr(cfg), new ParamStore(detrSpecs(cfg)).initAll(rng));
  }

  /** Forward pass. `training` turns dropout on (then `rng` seeds every dropout mask). */
  forward(pixels: tf.Tensor4D, pixelMask: tf.Tensor3D, training = false, rng?: Rng): DetrOutput {
    const [b, hIn, wIn, c] = pixels.shape;
    if (c !== 3 || pixelMask.shape.join() !== [b, hIn, wIn].join()) {
      throw new Error(
        `DetrModel.forward: pixels [${pixels.shape}] must be [B, H, W, 3] and pixelMask [${pixelMask.shape}] [B, H, W]`,
      );
    }
    return tf.tidy(() => {
      const features = backboneForward(this.params, this.cfg.backbone, pixels); // [B, h, w, C]
      const [, h, w] = features.shape;
      const featureMask = downsampleMask(tf.cast(pixelMask, 'float32') as tf.Tensor3D, h, w); // [B, h, w]
      return detrFromFeatures(this.params, this.cfg, features, featureMask, { training, rng });
    });
  }

  dispose(): void {
    this.params.dispose();
  }
}
