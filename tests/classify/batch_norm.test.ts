/**
 * Batch norm in train mode for classification pre-training (torch.nn.BatchNorm2d semantics): the normalisation by
 * hand, the running-statistics update after a step against statistics computed here from the stem conv, exact
 * gradients through the batch statistics (central finite differences), and frozen mode left as it was.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/backend.js';
import { Rng } from '../../lib/engine/rng.js';
import { BACKBONE_PREFIX, BatchNormStats, batchNormTrain, FROZEN_BN_EPS } from '../../lib/detr/backbone.js';
import { CropClassifier } from '../../lib/classify/classifier_model.js';
import { ClassifierTrainer } from '../../lib/classify/classifier_step.js';
import type { PixelBatch } from '../../lib/classify/image_cache.js';
import { fdCheck } from '../detr/fixtures.js';

before(async () => {
  await initEngine({ backend: 'wasm', log: null });
});

const BACKBONE = { depth: 18 as const, width: 4, numStages: 3 as const, trainableFrom: 'all' as const };
const TRAIN_BN = { ...BACKBONE, batchNorm: 'train' as const };
const S = 32,
  B = 3;

function batch(seed: number): PixelBatch {
  const rng = new Rng(seed);
  return { pixels: rng.normals(B * S * S * 3), labels: Int32Array.of(0, 2, 1), size: S, samples: [] };
}

test('batchNormTrain: hand-computed normalisation, batch mean and unbiased variance', () => {
  // one channel, values 1..4 over batch 2 × 1 × 2: μ = 2.5, σ² (biased) = 1.25, unbiased = 5/3
  const z = tf.tensor4d([1, 2, 3, 4], [2, 1, 2, 1]);
  const { y, mean, unbiasedVariance } = batchNormTrain(z, tf.tensor1d([2]), tf.tensor1d([0.5]));
  const inv = 1 / Math.sqrt(1.25 + FROZEN_BN_EPS);
  const want = [1, 2, 3, 4].map((v) => (v - 2.5) * inv * 2 + 0.5);
  Array.from(y.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5, `y[${i}] ${v} vs ${want[i]}`));
  assert.ok(Math.abs(mean.dataSync()[0] - 2.5) < 1e-6);
  assert.ok(Math.abs(unbiasedVariance.dataSync()[0] - 5 / 3) < 1e-5);
});

test("a train-mode step moves the running statistics by momentum 0.1 toward the batch's (stem checked by hand)", async () => {
  const model = CropClassifier.create({ backbone: TRAIN_BN, numClasses: 3 }, new Rng(1));
  const p = model.params;
  const name = (f: string) => `${BACKBONE_PREFIX}bn1.${f}`;
  // non-trivial running statistics before the step
  p.set(name('running_mean'), tf.fill([4], 0.3), true);
  p.set(name('running_var'), tf.fill([4], 2), true);
  assert.ok(p.trainable().has(name('weight')) && p.trainable().has(name('bias')), 'γ and β train');
  assert.ok(!p.trainable().has(name('running_mean')));
  const b = batch(2);
  // the stem conv output on this batch, computed here: 7×7 stride 2, PyTorch padding 3
  const z = tf.conv2d(tf.tensor4d(b.pixels, [B, S, S, 3]), p.get(`${BACKBONE_PREFIX}conv1.weight`) as tf.Tensor4D, 2, [
    [0, 0],
    [3, 3],
    [3, 3],
    [0, 0],
  ]);
  const { mean, variance } = tf.moments(z, [0, 1, 2]);
  const n = z.shape[0] * z.shape[1] * z.shape[2];
  const mu = mean.dataSync(),
    v = variance.dataSync();
  const trainer = new ClassifierTrainer(model, { lr: 1e-3, lrBackbone: 1e-3, weightDecay: 0 });
  await trainer.step(b, { lr: 1e-3, lrBackbone: 1e-3 });
  const rm = p.get(name('running_mean')).dataSync(),
    rv = p.get(name('running_var')).dataSync();
  for (let c = 0; c < 4; c++) {
    assert.ok(Math.abs(rm[c] - (0.9 * 0.3 + 0.1 * mu[c])) < 1e-5, `running_mean[${c}]`);
    assert.ok(
      Math.abs(rv[c] - (0.9 * 2 + 0.1 * v[c] * (n / (n - 1)))) < 1e-4 * Math.max(1, rv[c]),
      `running_var[${c}]`,
    );
  }
  // every batch norm of the backbone was updated (none stays at its initial 0 / 1)
  for (const s of p.specs.keys())
    if (s.endsWith('.running_var'))
      assert.ok(
        p
          .get(s)
          .dataSync()
          .some((x) => Math.abs(x - 1) > 1e-6),
        s,
      );
  trainer.dispose();
  model.dispose();
});

test('gradients through the batch statistics equal central finite differences (input, γ, β)', async () => {
  // the normalisation alone is smooth (a network's ReLUs sit at its kinks after batch norm, where differences
  // are not derivatives); its composition with conv and ReLU is tfjs' autodiff of tested ops
  const rng = new Rng(3);
  const z = tf.variable(tf.tensor4d(rng.normals(3 * 4 * 4 * 5), [3, 4, 4, 5]));
  const gamma = tf.variable(tf.tensor1d(rng.normals(5, 0.5).map((v) => 1 + v)));
  const beta = tf.variable(tf.tensor1d(rng.normals(5, 0.3)));
  const r = tf.tensor4d(rng.normals(3 * 4 * 4 * 5), [3, 4, 4, 5]);
  const loss = async () =>
    tf.tidy(() => {
      const { y } = batchNormTrain(z, gamma, beta);
      return tf.sum(tf.mul(tf.square(y), r)) as tf.Scalar; // y² so the gradient w.r.t. z is not 0 by symmetry
    });
  const { bad, maxAbsGrad } = await fdCheck(loss, [z, gamma, beta], { eps: 1e-2, atol: 1e-3, rtol: 0.01 });
  assert.deepEqual(bad, []);
  assert.ok(
    maxAbsGrad.every((g) => g > 1e-2),
    `gradients too small to check: ${maxAbsGrad}`,
  );
  tf.dispose([z, gamma, beta, r]);
});

test('frozen batch norm (the default) is unchanged by a step: γ, β and running statistics stay', async () => {
  const model = CropClassifier.create({ backbone: BACKBONE, numClasses: 3 }, new Rng(1));
  const p = model.params;
  const names = [...p.specs.keys()].filter((n) => /\.bn1\.|downsample\.1\./.test(n));
  assert.ok(names.length > 0 && names.every((n) => !p.trainable().has(n)));
  const before = names.map((n) => Array.from(p.get(n).dataSync()));
  const trainer = new ClassifierTrainer(model, { lr: 1e-2, lrBackbone: 1e-2, weightDecay: 0 });
  await trainer.step(batch(5), { lr: 1e-2, lrBackbone: 1e-2 });
  assert.deepEqual(
    names.map((n) => Array.from(p.get(n).dataSync())),
    before,
  );
  assert.throws(() => model.forward(tf.zeros([1, S, S, 3]) as tf.Tensor4D, new BatchNormStats()), /batchNorm 'train'/);
  trainer.dispose();
  model.dispose();
});
