/**
 * The whole DETR training loss (backbone → transformer → heads → Hungarian matching → set loss with aux
 * terms) differentiated on the wasm backend, with detrlab's training kernels, against central finite
 * differences of the same loss: the gradient every training step uses is the derivative of the loss it logs.
 * Entries: the largest-|g| ones of each tensor (where an error would matter most) and two fixed ones.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import { Rng } from '../../lib/engine/rng.js';
import { DetrModel } from '../../lib/detr/model.js';
import { setCriterion } from '../../lib/detr/criterion.js';
import { GRADCHECK_CFG, paddedPair, fdCheck } from './fixtures.js';

before(async () => {
  await initEngine({ backend: 'wasm', log: null });
});

test('DETR loss gradients equal central finite differences (queries, attention, input projection; padded image in the batch)', async () => {
  const cfg = GRADCHECK_CFG;
  const model = DetrModel.create(cfg, new Rng(0));
  const { pixels, mask, targets } = paddedPair(3, false);
  const loss = async (): Promise<tf.Scalar> =>
    (await setCriterion(model.forward(pixels, mask, false), targets, cfg)).total;
  const names = [
    'model.query_position_embeddings.weight',
    'model.decoder.layers.0.encoder_attn.q_proj.weight',
    'model.decoder.layers.1.encoder_attn.k_proj.weight',
    'model.encoder.layers.0.self_attn.q_proj.weight',
    'model.input_projection.weight',
  ];
  const vars = names.map((n) => model.params.get(n));
  const before = tf.memory().numTensors;
  const { bad, maxAbsGrad } = await fdCheck(loss, vars, {
    eps: 5e-4,
    pick: (g, byMag) => [...byMag.slice(0, 3), Math.floor(g.length / 3)],
  });
  maxAbsGrad.forEach((m, i) => assert.ok(m > 1e-3, `${names[i]}: no gradient reaches it`));
  assert.deepEqual(bad, []);
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  tf.dispose([pixels, mask]);
  model.dispose();
});
