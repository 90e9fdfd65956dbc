/** Shared tiny fixtures for DETR tests: a small config and a transformer-only parameter store. */
import * as tf from '@tensorflow/tfjs-core';
import { resolveDetr, DetrConfig } from '../../lib/detr/config.js';
import { ParamStore } from '../../lib/detr/param_store.js';
import { transformerSpecs } from '../../lib/detr/specs.js';
import { Rng } from '../../lib/engine/rng.js';

/** d_model 16, 2 heads, 2+3 layers, FFN 32, 5 queries, 3 classes. */
export const TINY: DetrConfig = resolveDetr({ numClasses: 3, dModel: 16, nHeads: 2, encoderLayers: 2, decoderLayers: 3, ffnDim: 32, numQueries: 5 }, 'demo');
export const FEATURE_CHANNELS = 8;

/** A transformer-only store (no backbone) with random init. */
export const tinyStore = (cfg: DetrConfig = TINY, seed = 0, channels = FEATURE_CHANNELS): ParamStore =>
  new ParamStore(transformerSpecs(cfg, channels)).initAll(new Rng(seed));

/** Stand-in backbone output [B, h, w, C] and a feature mask [B, h, w] whose image `b` keeps `valid[b]` = [rows, cols]. */
export function standInFeatures(b: number, h: number, w: number, valid: [number, number][], seed = 1, channels = FEATURE_CHANNELS): { features: tf.Tensor4D; mask: tf.Tensor3D } {
  const rng = new Rng(seed);
  const features = tf.tensor4d(rng.normals(b * h * w * channels), [b, h, w, channels]);
  const m = new Float32Array(b * h * w);
  for (let i = 0; i < b; i++) for (let y = 0; y < valid[i][0]; y++) for (let x = 0; x < valid[i][1]; x++) m[(i * h + y) * w + x] = 1;
  return { features, mask: tf.tensor3d(m, [b, h, w]) };
}

export const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
