import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/backend.js';
import { Rng } from '../../lib/engine/rng.js';
import { BACKBONE_PREFIX, backboneSpecs } from '../../lib/detr/backbone.js';
import { UserError } from '../../lib/params/user_error.js';
import { buildClassifier } from '../../lib/classify/backbone_weights.js';
import { CropClassifier, HEAD_BIAS, HEAD_WEIGHT } from '../../lib/classify/classifier_model.js';
import { ClassifierTrainer, cosineLr, crossEntropy, predictBatch } from '../../lib/classify/classifier_step.js';
import { ImageCache, makeBatch } from '../../lib/classify/image_cache.js';
import { readCropsData } from '../../lib/classify/crop_samples.js';
import { makeCropsFixture, saveTinyDetr, TINY_DETR, tmpDir } from './fixtures.js';

before(async () => {
  await initEngine({ backend: 'wasm', log: null });
});

const TINY_BACKBONE = { depth: 18 as const, width: 8, numStages: 3 as const, trainableFrom: 'all' as const };

test('cross-entropy equals −log softmax at the label (hand-computed)', () => {
  const loss = tf.tidy(
    () =>
      crossEntropy(
        tf.tensor2d([
          [1, 2, 3],
          [0, 0, 0],
        ]),
        tf.tensor1d([2, 0], 'int32'),
      ).dataSync()[0],
  );
  const l0 = -Math.log(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3))),
    l1 = Math.log(3);
  assert.ok(Math.abs(loss - (l0 + l1) / 2) < 1e-6, `${loss}`);
});

test('cosine schedule: base at 0, half at the middle, 0 at the end', () => {
  assert.equal(cosineLr(1e-3, 0), 1e-3);
  assert.ok(Math.abs(cosineLr(1e-3, 0.5) - 5e-4) < 1e-12);
  assert.ok(Math.abs(cosineLr(1e-3, 1)) < 1e-12);
});

test('backbone weights load from a DETR checkpoint: every backbone tensor equals the saved one, the head is new', async () => {
  const { model: detr, weights } = saveTinyDetr();
  const { model, provenance } = await buildClassifier({
    backboneWeights: weights,
    arch: 'demo',
    numClasses: 4,
    freezeBackbone: false,
    trainableFrom: 'layer2',
    rng: new Rng(0),
  });
  try {
    assert.deepEqual(
      { depth: provenance.backbone.depth, width: provenance.backbone.width, numStages: provenance.backbone.numStages },
      { depth: 18, width: 8, numStages: 3 },
    );
    const names = backboneSpecs(TINY_DETR.backbone).map((s) => s.name);
    assert.equal(provenance.loadedTensors, names.length);
    for (const n of names) {
      assert.ok(n.startsWith(BACKBONE_PREFIX));
      assert.deepEqual(Array.from(model.params.get(n).dataSync()), Array.from(detr.params.get(n).dataSync()), n);
    }
    assert.deepEqual(model.params.get(HEAD_WEIGHT).shape, [32, 4]); // [C, K]: ResNet-18 width 8, 3 stages → 32 channels
    assert.equal(model.params.specs.get(`${BACKBONE_PREFIX}conv1.weight`)!.trainable, false); // layer2 rule: stem frozen
    assert.equal(model.params.specs.get(`${BACKBONE_PREFIX}layer2.0.conv1.weight`)!.trainable, true);
  } finally {
    model.dispose();
    detr.dispose();
  }
});

test('a checkpoint whose backbone does not fit is a UserError naming the tensor', async () => {
  const { model: detr, weights } = saveTinyDetr();
  detr.dispose();
  const cfgFile = path.join(path.dirname(weights), 'config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
  cfg.detrlab.config.backbone.width = 16; // config.json now disagrees with the tensors
  fs.writeFileSync(cfgFile, JSON.stringify(cfg));
  await assert.rejects(
    buildClassifier({
      backboneWeights: weights,
      arch: 'demo',
      numClasses: 4,
      freezeBackbone: false,
      trainableFrom: 'all',
      rng: new Rng(0),
    }),
    (e: Error) => e instanceof UserError && /conv1\.weight/.test(e.message),
  );
  await assert.rejects(
    buildClassifier({
      backboneWeights: path.join(tmpDir('nope'), 'missing.safetensors'),
      arch: 'demo',
      numClasses: 4,
      freezeBackbone: false,
      trainableFrom: 'all',
      rng: new Rng(0),
    }),
    (e: Error) => e instanceof UserError && /does not exist/.test(e.message),
  );
});

test('freezeBackbone leaves only the head trainable', async () => {
  const { model } = await buildClassifier({
    backboneWeights: 'none',
    arch: 'demo',
    numClasses: 3,
    freezeBackbone: true,
    trainableFrom: 'all',
    rng: new Rng(0),
  });
  assert.deepEqual([...model.params.trainable().keys()].sort(), [HEAD_BIAS, HEAD_WEIGHT].sort());
  model.dispose();
});

test('overfits a tiny fixed set: loss → ~0 and train accuracy 1.0', async () => {
  const crops = readCropsData(await makeCropsFixture());
  const samples = crops.train.slice(0, 8);
  const batch = await makeBatch(new ImageCache(1e7), samples, {
    train: false,
    aug: { imageSize: 24, minScale: 1, jitter: 0 },
    seed: 0,
    epoch: 0,
  });
  const model = CropClassifier.create({ backbone: TINY_BACKBONE, numClasses: 4 }, new Rng(1));
  const trainer = new ClassifierTrainer(model, { lr: 1e-2, lrBackbone: 1e-2, weightDecay: 0 });
  let last = { loss: Infinity, correct: 0, count: 0 };
  for (let i = 0; i < 60 && !(last.loss < 0.02 && last.correct === last.count); i++)
    last = await trainer.step(batch, { lr: 1e-2, lrBackbone: 1e-2 });
  const { pred } = await predictBatch(model, batch);
  trainer.dispose();
  model.dispose();
  assert.ok(last.loss < 0.05, `loss ${last.loss}`);
  assert.deepEqual(Array.from(pred), Array.from(batch.labels));
});

test('no tensor leaks: forward, training step and prediction', async () => {
  const crops = readCropsData(await makeCropsFixture());
  const batch = await makeBatch(new ImageCache(1e7), crops.train.slice(0, 4), {
    train: true,
    aug: { imageSize: 24, minScale: 0.5, jitter: 0.2 },
    seed: 0,
    epoch: 0,
  });
  const model = CropClassifier.create({ backbone: TINY_BACKBONE, numClasses: 4 }, new Rng(1));
  const trainer = new ClassifierTrainer(model, { lr: 1e-3, lrBackbone: 1e-4, weightDecay: 1e-4 });
  await trainer.step(batch, { lr: 1e-3, lrBackbone: 1e-4 }); // creates the AdamW moments
  const before = tf.memory().numTensors;
  const x = tf.zeros([2, 24, 24, 3]) as tf.Tensor4D;
  tf.dispose([model.forward(x), x]);
  await trainer.step(batch, { lr: 1e-3, lrBackbone: 1e-4 });
  await predictBatch(model, batch);
  assert.equal(tf.memory().numTensors, before);
  trainer.dispose();
  model.dispose();
});
