import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import {
  nearestIndices,
  downsampleMask,
  sinePositionEmbedding,
  sineFrequencies,
} from '../../lib/detr/position_embedding.js';

before(async () => {
  await initEngine({ backend: 'cpu', log: null });
});

test('nearest indices as PyTorch F.interpolate(mode="nearest")', () => {
  assert.deepEqual(nearestIndices(5, 3), [0, 1, 3]); // scale 5/3: floor(0, 1.67, 3.33)
  assert.deepEqual(nearestIndices(4, 4), [0, 1, 2, 3]);
  assert.deepEqual(nearestIndices(3, 6), [0, 0, 1, 1, 2, 2]); // exact 2× upsampling
  assert.deepEqual(nearestIndices(800, 25).slice(0, 3), [0, 32, 64]);
  assert.deepEqual(nearestIndices(1066, 34).slice(-2), [1003, 1034]); // floor(32·31.3529…), floor(33·31.3529…)
});

test('mask downsampling picks the nearest source pixel', () => {
  // 1 image 5×6, real region 4 rows × 3 cols → 3×3 feature map samples rows [0,1,3], cols [0,2,4]
  const m = Array.from({ length: 5 }, (_, y) => Array.from({ length: 6 }, (_, x) => (y < 4 && x < 3 ? 1 : 0)));
  const got = tf.tidy(() => downsampleMask(tf.tensor3d([m]), 3, 3).arraySync()[0]);
  assert.deepEqual(got, [
    [1, 1, 0],
    [1, 1, 0],
    [1, 1, 0],
  ]);
});

/** The formula of transformers `DetrSinePositionEmbedding` (= detr `PositionEmbeddingSine`) in plain JS loops. */
function referenceEmbedding(mask: number[][], d: number): number[][][] {
  const h = mask.length,
    w = mask[0].length,
    n = d / 2,
    tau = 2 * Math.PI;
  const y = mask.map((row, i) => row.map((_, j) => mask.slice(0, i + 1).reduce((s, r) => s + r[j], 0)));
  const x = mask.map((row) => row.map((_, j) => row.slice(0, j + 1).reduce((s, v) => s + v, 0)));
  const dimT = Array.from({ length: n }, (_, k) => 10000 ** ((2 * Math.floor(k / 2)) / n));
  const enc = (v: number) => dimT.map((t, k) => (k % 2 === 0 ? Math.sin(v / t) : Math.cos(v / t)));
  return mask.map((row, i) =>
    row.map((_, j) => [...enc((y[i][j] / (y[h - 1][j] + 1e-6)) * tau), ...enc((x[i][j] / (x[i][w - 1] + 1e-6)) * tau)]),
  );
}

test('sine position embedding equals the reference formula (y first, interleaved sin/cos)', () => {
  const mask = [
    [1, 1, 1, 0],
    [1, 1, 1, 0],
    [0, 0, 0, 0],
  ];
  const d = 8;
  const got = tf.tidy(() => sinePositionEmbedding(tf.tensor3d([mask]), d).arraySync()[0]);
  const want = referenceEmbedding(mask, d);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 4; j++)
      for (let k = 0; k < d; k++) {
        assert.ok(
          Math.abs(got[i][j][k] - want[i][j][k]) < 2e-6,
          `(${i},${j},${k}) ${got[i][j][k]} vs ${want[i][j][k]}`,
        );
      }
  // hand check: last real row/col reaches 2π/(1+5e-7): channel 0 = sin(≈2π) ≈ 0, channel 1 = cos ≈ 1
  assert.ok(Math.abs(got[1][2][0]) < 1e-5 && Math.abs(got[1][2][1] - 1) < 1e-6);
  assert.deepEqual([...sineFrequencies(4)], [1, 1, 100, 100]);
});
