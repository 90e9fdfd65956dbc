/**
 * The pixel mask at feature resolution and DETR's sine position embedding.
 * References: Hugging Face `modeling_detr.py` (`DetrConvEncoder.forward` mask interpolation,
 * `DetrSinePositionEmbedding`), facebookresearch/detr `models/position_encoding.py` (`PositionEmbeddingSine`).
 * Dims: B batch, H W image, h w feature map, D = dModel.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Source index of each output index under PyTorch's `F.interpolate(mode='nearest', size=out)`:
 * floor(i · float32(in/out)) in float32 arithmetic, clamped to in−1 (aten `nearest_idx`).
 */
export function nearestIndices(inSize: number, outSize: number): number[] {
  if (inSize === outSize) return Array.from({ length: outSize }, (_, i) => i);
  if (outSize === 2 * inSize) return Array.from({ length: outSize }, (_, i) => i >> 1);
  const scale = Math.fround(inSize / outSize);
  return Array.from({ length: outSize }, (_, i) => Math.min(Math.floor(Math.fround(i * scale)), inSize - 1));
}

/** Nearest-neighbour downsampling of a pixel mask [B, H, W] (1 = real pixel) to [B, h, w]. */
export function downsampleMask(mask: tf.Tensor3D, h: number, w: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [, H, W] = mask.shape;
    const rows = tf.gather(mask, tf.tensor1d(nearestIndices(H, h), 'int32'), 1); // [B, h, W]
    return tf.gather(rows, tf.tensor1d(nearestIndices(W, w), 'int32'), 2) as tf.Tensor3D; // [B, h, w]
  });
}

/** `temperature ** (2·floor(k/2) / n)` for k = 0..n−1, in float32 as PyTorch computes it. */
export function sineFrequencies(n: number, temperature = 10000): Float32Array {
  return Float32Array.from({ length: n }, (_, k) => temperature ** Math.fround((2 * Math.floor(k / 2)) / n));
}

/**
 * Sine position embedding of a feature mask [B, h, w] (1 = real) → [B, h, w, D]: normalised cumulative
 * row/column counts scaled to 2π (eps 1e-6), frequencies temperature^(2⌊k/2⌋/(D/2)), channel k of each
 * half = sin if k is even else cos; the first D/2 channels encode y, the last D/2 encode x.
 */
export function sinePositionEmbedding(mask: tf.Tensor3D, dModel: number, temperature = 10000): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = mask.shape;
    const n = dModel / 2;
    const scale = 2 * Math.PI;
    let yEmbed = tf.cumsum(mask, 1); // [B, h, w]
    let xEmbed = tf.cumsum(mask, 2); // [B, h, w]
    yEmbed = tf.mul(tf.div(yEmbed, tf.add(tf.slice(yEmbed, [0, h - 1, 0], [-1, 1, -1]), 1e-6)), scale); // [B, h, w]
    xEmbed = tf.mul(tf.div(xEmbed, tf.add(tf.slice(xEmbed, [0, 0, w - 1], [-1, -1, 1]), 1e-6)), scale); // [B, h, w]
    const dimT = tf.tensor1d(sineFrequencies(n, temperature)); // [n]
    const even = tf.tensor1d(
      Array.from({ length: n }, (_, k) => k % 2 === 0),
      'bool',
    ); // [n]
    const encode = (e: tf.Tensor) => {
      const arg = tf.div(tf.expandDims(e, 3), dimT); // [B, h, w, n]
      return tf.where(even, tf.sin(arg), tf.cos(arg)); // [B, h, w, n] sin,cos,sin,…
    };
    return tf.concat([encode(yEmbed), encode(xEmbed)], 3) as tf.Tensor4D; // [B, h, w, D]
  });
}
