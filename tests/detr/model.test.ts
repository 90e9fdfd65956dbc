import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import { Rng } from '../../lib/engine/rng.js';
import { DetrModel } from '../../lib/detr/model.js';
import { resolveDetr } from '../../lib/detr/config.js';
import { setCriterion } from '../../lib/detr/criterion.js';
import { variableGradsAsync } from '../../lib/engine/async_grads.js';

before(async () => {
  await initEngine({ backend: 'cpu', log: null });
});

const cfg = resolveDetr(
  {
    numClasses: 4,
    dModel: 32,
    nHeads: 4,
    encoderLayers: 1,
    decoderLayers: 2,
    ffnDim: 64,
    numQueries: 6,
    backbone: { width: 8 },
  },
  'demo',
);

function batch(): { pixels: tf.Tensor4D; mask: tf.Tensor3D } {
  const rng = new Rng(1);
  const pixels = tf.tensor4d(rng.normals(2 * 64 * 80 * 3), [2, 64, 80, 3]);
  const m = new Float32Array(2 * 64 * 80).fill(1);
  for (let y = 0; y < 64; y++) for (let x = 0; x < 80; x++) if (y >= 48 || x >= 50) m[64 * 80 + y * 80 + x] = 0; // image 1: 48×50 real
  return { pixels, mask: tf.tensor3d(m, [2, 64, 80]) };
}

test('full model: shapes (stride 16 with 3 stages), eval is deterministic', () => {
  const model = DetrModel.create(cfg, new Rng(0));
  const { pixels, mask } = batch();
  const a = model.forward(pixels, mask),
    b = model.forward(pixels, mask);
  assert.deepEqual(a.logits.shape, [2, 6, 5]);
  assert.deepEqual(a.auxPredBoxes.shape, [1, 2, 6, 4]);
  assert.deepEqual(Array.from(a.logits.dataSync()), Array.from(b.logits.dataSync()));
  assert.throws(() => model.forward(pixels, tf.zeros([2, 64, 81]) as tf.Tensor3D), /pixelMask/);
  tf.dispose([a, b, pixels, mask]);
  model.dispose();
});

test('full model: forward + backward leak no tensors and reach the backbone', async () => {
  const model = DetrModel.create(cfg, new Rng(0));
  const { pixels, mask } = batch();
  const targets = [
    { labels: [1], boxesCxcywh: [[0.5, 0.5, 0.3, 0.3]] as [number, number, number, number][] },
    { labels: [], boxesCxcywh: [] },
  ];
  const vars = model.params.trainable();
  const before = tf.memory().numTensors;
  const { value, grads } = await variableGradsAsync(
    async () => (await setCriterion(model.forward(pixels, mask, true, new Rng(2)), targets, cfg)).total,
    [...vars.values()],
  );
  const names = [...vars.keys()];
  const gStem = grads[vars.get('model.backbone.conv_encoder.model.conv1.weight')!.name];
  assert.ok(gStem && tf.tidy(() => tf.max(tf.abs(gStem)).dataSync()[0]) > 0, 'gradient reaches conv1');
  assert.equal(Object.keys(grads).length, names.length);
  tf.dispose([value, grads]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([pixels, mask]);
  model.dispose();
});
