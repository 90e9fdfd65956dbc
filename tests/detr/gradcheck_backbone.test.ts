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
import { setCriterion } from '../../lib/detr/criterion.js';
import { BACKBONE_PREFIX } from '../../lib/detr/backbone.js';
import { GRADCHECK_CFG, paddedPair, fdCheck } from './fixtures.js';

before(async () => {
  await initEngine({ backend: 'wasm', log: null });
});

test('backbone conv gradients with real frozen BN on a padded batch equal finite differences', async () => {
  const cfg = GRADCHECK_CFG;
  const model = DetrModel.create(cfg, new Rng(0));
  const brng = new Rng(11);
  for (const name of model.params.specs.keys()) {
    // γ ≈ 1 ± 0.3, β and μ ≈ ±0.3, σ² ∈ [0.5, ∞)
    const isBn = /\.(bn\d|downsample\.1)\.(weight|bias|running_mean|running_var)$/.test(name);
    if (!name.startsWith(BACKBONE_PREFIX) || !isBn) continue;
    const v = model.params.get(name);
    const z = brng.normals(v.size);
    const field = name.slice(name.lastIndexOf('.') + 1);
    const vals = Float32Array.from(z, (x) =>
      field === 'running_var' ? 0.5 + Math.abs(x) : field === 'weight' ? 1 + 0.3 * x : 0.3 * x,
    );
    tf.tidy(() => v.assign(tf.tensor(vals, v.shape)));
  }
  const { pixels, mask, targets } = paddedPair(3, true); // zero padding, as the loader pads
  const loss = async (): Promise<tf.Scalar> =>
    (await setCriterion(model.forward(pixels, mask, false), targets, cfg)).total;
  const convs = ['conv1', 'layer1.0.conv1', 'layer2.0.conv1', 'layer2.0.downsample.0', 'layer3.1.conv2'];
  const vars = convs.map((n) => model.params.get(`${BACKBONE_PREFIX}${n}.weight`));
  const { bad } = await fdCheck(loss, vars, { eps: 1e-3 });
  tf.dispose([pixels, mask]);
  model.dispose();
  assert.deepEqual(bad, []);
});
