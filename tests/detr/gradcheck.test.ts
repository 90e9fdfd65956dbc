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
import { resolveDetr } from '../../lib/detr/config.js';
import { setCriterion } from '../../lib/detr/criterion.js';
import type { DetrTarget } from '../../lib/detr/matcher.js';
import { variableGradsAsync } from '../../lib/engine/async_grads.js';

before(async () => { await initEngine({ backend: 'wasm', log: null }); });

test('DETR loss gradients equal central finite differences (queries, attention, input projection; padded image in the batch)', async () => {
  const cfg = resolveDetr({ numClasses: 5, dModel: 32, nHeads: 4, encoderLayers: 1, decoderLayers: 2, ffnDim: 64, numQueries: 6, dropout: 0, backbone: { depth: 18, width: 8, numStages: 3, trainableFrom: 'all' } }, 'demo');
  const model = DetrModel.create(cfg, new Rng(0));
  const rng = new Rng(3);
  const [h, w] = [64, 96];
  const pixels = tf.tensor4d(rng.normals(2 * h * w * 3), [2, h, w, 3]);
  const maskData = new Float32Array(2 * h * w).fill(1);
  for (let y = 0; y < h; y++) for (let x = 70; x < w; x++) maskData[h * w + y * w + x] = 0;   // image 2: 70 of 96 columns
  const mask = tf.tensor3d(maskData, [2, h, w]);
  const targets: DetrTarget[] = [
    { labels: [0, 2], boxesCxcywh: [[0.3, 0.3, 0.2, 0.2], [0.7, 0.6, 0.3, 0.4]] },
    { labels: [1], boxesCxcywh: [[0.5, 0.5, 0.4, 0.3]] },
  ];
  const loss = async (): Promise<tf.Scalar> => (await setCriterion(model.forward(pixels, mask, false), targets, cfg)).total;
  const lossValue = async (): Promise<number> => {
    tf.engine().startScope();                                   // the criterion's intermediates (it awaits: no tidy)
    try { return (await (await loss()).data())[0]; } finally { tf.engine().endScope(); }
  };
  const names = [
    'model.query_position_embeddings.weight',
    'model.decoder.layers.0.encoder_attn.q_proj.weight',
    'model.decoder.layers.1.encoder_attn.k_proj.weight',
    'model.encoder.layers.0.self_attn.q_proj.weight',
    'model.input_projection.weight',
  ];
  const vars = names.map((n) => model.params.get(n));
  const before = tf.memory().numTensors;
  const { value, grads } = await variableGradsAsync(loss, vars);
  const eps = 5e-4;
  for (const [i, v] of vars.entries()) {
    const g = await grads[v.name].data();
    const orig = await v.data();
    const byMagnitude = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
    assert.ok(Math.abs(g[byMagnitude[0]]) > 1e-3, `${names[i]}: no gradient reaches it`);
    for (const k of [...byMagnitude.slice(0, 3), Math.floor(g.length / 3)]) {
      const at = async (d: number): Promise<number> => {
        const shifted = Float32Array.from(orig); shifted[k] += d;
        tf.tidy(() => v.assign(tf.tensor(shifted, v.shape)));
        return lossValue();
      };
      const fd = ((await at(eps)) - (await at(-eps))) / (2 * eps);
      tf.tidy(() => v.assign(tf.tensor(orig, v.shape)));
      assert.ok(Math.abs(fd - g[k]) <= 3e-3 + 0.03 * Math.abs(g[k]), `${names[i]}[${k}]: gradient ${g[k]} vs finite difference ${fd}`);
    }
  }
  tf.dispose([value, grads]);
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  tf.dispose([pixels, mask]); model.dispose();
});
