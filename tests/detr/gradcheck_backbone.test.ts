/**
 * Backbone conv-weight gradients with non-trivial frozen batch norm (scale and shift far from the identity, as
 * in a pre-trained backbone) on a padded batch, against central finite differences of the same loss, on the
 * training backend (wasm): BN folded into the trainable convs (backbone.ts convBn) must differentiate like the
 * unfolded forward. Breaking the fold's gradient (e.g. not scaling dW by γ/√(σ²+ε)) fails this test.
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
import { BACKBONE_PREFIX } from '../../lib/detr/backbone.js';

before(async () => { await initEngine({ backend: 'wasm', log: null }); });

test('backbone conv gradients with real frozen BN on a padded batch equal finite differences', async () => {
  const cfg = resolveDetr({
    numClasses: 5, dModel: 32, nHeads: 4, encoderLayers: 1, decoderLayers: 2, ffnDim: 64, numQueries: 6, dropout: 0,
    backbone: { depth: 18, width: 8, numStages: 3, trainableFrom: 'all' },
  }, 'demo');
  const model = DetrModel.create(cfg, new Rng(0));
  const brng = new Rng(11);
  for (const name of model.params.specs.keys()) {                 // γ ≈ 1 ± 0.3, β and μ ≈ ±0.3, σ² ∈ [0.5, ∞)
    const isBn = /\.(bn\d|downsample\.1)\.(weight|bias|running_mean|running_var)$/.test(name);
    if (!name.startsWith(BACKBONE_PREFIX) || !isBn) continue;
    const v = model.params.get(name);
    const z = brng.normals(v.size);
    const field = name.slice(name.lastIndexOf('.') + 1);
    const vals = Float32Array.from(z, (x) => (field === 'running_var' ? 0.5 + Math.abs(x) : field === 'weight' ? 1 + 0.3 * x : 0.3 * x));
    tf.tidy(() => v.assign(tf.tensor(vals, v.shape)));
  }
  const rng = new Rng(3);
  const [h, w] = [64, 96];
  const pixData = rng.normals(2 * h * w * 3);
  const maskData = new Float32Array(2 * h * w).fill(1);
  for (let y = 0; y < h; y++) {
    for (let x = 70; x < w; x++) {                                  // image 2: 70 of 96 columns, zero padding
      maskData[h * w + y * w + x] = 0;
      for (let c = 0; c < 3; c++) pixData[((h + y) * w + x) * 3 + c] = 0;
    }
  }
  const px = tf.tensor4d(pixData, [2, h, w, 3]);
  const mask = tf.tensor3d(maskData, [2, h, w]);
  const targets: DetrTarget[] = [
    { labels: [0, 2], boxesCxcywh: [[0.3, 0.3, 0.2, 0.2], [0.7, 0.6, 0.3, 0.4]] },
    { labels: [1], boxesCxcywh: [[0.5, 0.5, 0.4, 0.3]] },
  ];
  const loss = async (): Promise<tf.Scalar> => (await setCriterion(model.forward(px, mask, false), targets, cfg)).total;
  const lossValue = async (): Promise<number> => {
    tf.engine().startScope();
    try { return (await (await loss()).data())[0]; } finally { tf.engine().endScope(); }
  };
  const convs = ['conv1', 'layer1.0.conv1', 'layer2.0.conv1', 'layer2.0.downsample.0', 'layer3.1.conv2'];
  const names = convs.map((n) => `${BACKBONE_PREFIX}${n}.weight`);
  const vars = names.map((n) => model.params.get(n));
  const { value, grads } = await variableGradsAsync(loss, vars);
  const eps = 1e-3;
  const bad: string[] = [];
  for (const [i, v] of vars.entries()) {
    const g = await grads[v.name].data();
    const orig = await v.data();
    const byMagnitude = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
    for (const k of byMagnitude.slice(0, 4)) {
      const at = async (d: number): Promise<number> => {
        const shifted = Float32Array.from(orig); shifted[k] += d;
        tf.tidy(() => v.assign(tf.tensor(shifted, v.shape)));
        return lossValue();
      };
      const fd = ((await at(eps)) - (await at(-eps))) / (2 * eps);
      tf.tidy(() => v.assign(tf.tensor(orig, v.shape)));
      if (!(Math.abs(fd - g[k]) <= 3e-3 + 0.03 * Math.abs(g[k]))) bad.push(`${names[i]}[${k}]: ${g[k]} vs ${fd}`);
    }
  }
  tf.dispose([value, grads]);
  tf.dispose([px, mask]); model.dispose();
  assert.deepEqual(bad, []);
});
