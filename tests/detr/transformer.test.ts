import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import { Rng } from '../../lib/engine/rng.js';
import { detrFromFeatures } from '../../lib/detr/detr_forward.js';
import { multiHeadAttention, keyValidFromMask } from '../../lib/detr/attention.js';
import { decoder } from '../../lib/detr/transformer.js';
import { EVAL } from '../../lib/detr/nn.js';
import { resolveDetr } from '../../lib/detr/config.js';
import { TINY, tinyStore, standInFeatures, maxAbsDiff, FEATURE_CHANNELS } from './fixtures.js';

before(async () => {
  await initEngine({ backend: 'cpu', log: null });
});

test('output shapes, boxes in (0,1), aux = earlier layers', () => {
  const p = tinyStore();
  const { features, mask } = standInFeatures(2, 3, 4, [
    [3, 4],
    [2, 3],
  ]);
  const out = detrFromFeatures(p, TINY, features, mask, EVAL);
  assert.deepEqual(out.logits.shape, [2, 5, 4]);
  assert.deepEqual(out.predBoxes.shape, [2, 5, 4]);
  assert.deepEqual(out.auxLogits.shape, [2, 2, 5, 4]);
  assert.deepEqual(out.auxPredBoxes.shape, [2, 2, 5, 4]);
  const boxes = out.predBoxes.dataSync();
  assert.ok(boxes.every((v) => v > 0 && v < 1));
  tf.dispose([out, features, mask]);
  p.dispose();
});

test('one decoder layer: aux outputs are empty', () => {
  const cfg = resolveDetr({ ...TINY, decoderLayers: 1 });
  const p = tinyStore(cfg);
  const { features, mask } = standInFeatures(1, 2, 2, [[2, 2]]);
  const out = detrFromFeatures(p, cfg, features, mask, EVAL);
  assert.deepEqual(out.auxLogits.shape, [0, 1, 5, 4]);
  assert.deepEqual(out.logits.shape, [1, 5, 4]);
  tf.dispose([out, features, mask]);
  p.dispose();
});

/** Plain-JS attention for one batch element: independent of the tensor code. */
function naiveAttention(
  p: ReturnType<typeof tinyStore>,
  prefix: string,
  q: number[][],
  k: number[][],
  v: number[][],
  valid: boolean[],
  nHeads: number,
): number[][] {
  const lin = (name: string, x: number[][]) => {
    const w = p.get(`${prefix}.${name}.weight`).arraySync() as number[][]; // [in, out]
    const b = p.get(`${prefix}.${name}.bias`).arraySync() as number[];
    return x.map((row) => b.map((bj, j) => row.reduce((s, xi, i) => s + xi * w[i][j], bj)));
  };
  const d = q[0].length,
    dh = d / nHeads;
  const Q = lin('q_proj', q).map((r) => r.map((x) => x / Math.sqrt(dh))),
    K = lin('k_proj', k),
    V = lin('v_proj', v);
  const out = Q.map(() => new Array<number>(d).fill(0));
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < Q.length; i++) {
      const s = K.map((kr, j) =>
        valid[j] ? kr.slice(h * dh, (h + 1) * dh).reduce((a, x, c) => a + x * Q[i][h * dh + c], 0) : -Infinity,
      );
      const m = Math.max(...s),
        e = s.map((x) => Math.exp(x - m)),
        z = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j < K.length; j++)
        for (let c = 0; c < dh; c++) out[i][h * dh + c] += (e[j] / z) * V[j][h * dh + c];
    }
  }
  return lin('out_proj', out);
}

test('attention equals a plain-JS reference, masked keys get zero weight', () => {
  const p = tinyStore();
  const rng = new Rng(5);
  const mk = (n: number) => Array.from({ length: n }, () => Array.from(rng.normals(16)));
  const q = mk(3),
    k = mk(4),
    v = mk(4),
    valid = [true, false, true, false];
  const got = tf.tidy(
    () =>
      multiHeadAttention(
        p,
        'model.decoder.layers.0.encoder_attn',
        {
          query: tf.tensor3d([q]),
          key: tf.tensor3d([k]),
          value: tf.tensor3d([v]),
          keyValid: keyValidFromMask(tf.tensor2d([valid.map(Number)])),
        },
        2,
        0,
        EVAL,
      ).arraySync()[0],
  );
  const want = naiveAttention(p, 'model.decoder.layers.0.encoder_attn', q, k, v, valid, 2);
  got.forEach((row, i) => row.forEach((x, j) => assert.ok(Math.abs(x - want[i][j]) < 1e-4, `${x} vs ${want[i][j]}`)));
  p.dispose();
});

test('the key mask is applied without materialising it at [B, H, Tq, Tk] (no Tile / broadcast of the mask)', async () => {
  // tfjs' webgpu backend tiles CPU-resident inputs in JavaScript: a where() on the broadcast mask cost
  // 8 s of a 9 s DETR-R50 forward at 800×1066. The mask now enters as a [B, 1, 1, Tk] additive bias.
  const p = tinyStore();
  const [b, h, tq, tk] = [2, 2, 5, 7];
  const x = {
    query: tf.randomNormal([b, tq, 16]) as tf.Tensor3D,
    key: tf.randomNormal([b, tk, 16]) as tf.Tensor3D,
    value: tf.randomNormal([b, tk, 16]) as tf.Tensor3D,
    keyValid: keyValidFromMask(
      tf.tensor2d([
        [1, 1, 1, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 1, 1],
      ]),
    ),
  };
  const prof = await tf.profile(() => multiHeadAttention(p, 'model.decoder.layers.0.encoder_attn', x, h, 0, EVAL));
  const big = prof.kernels.filter((k) => ['Tile', 'BroadcastTo', 'Select'].includes(k.name));
  assert.ok(
    big.every((k) => k.outputShapes.every((s) => s.reduce((a, d) => a * d, 1) < b * h * tq * tk)),
    `mask materialised: ${JSON.stringify(big.map((k) => [k.name, k.outputShapes]))}`,
  );
  tf.dispose([prof.result as tf.Tensor, x.query, x.key, x.value, x.keyValid]);
  p.dispose();
});

test('padding does not leak: features and encoder memory at padded positions change no output', () => {
  const p = tinyStore();
  const { features, mask } = standInFeatures(2, 3, 4, [
    [3, 4],
    [2, 3],
  ]);
  const noise = tf.tidy(() =>
    tf.mul(tf.randomNormal([2, 3, 4, FEATURE_CHANNELS], 0, 100, 'float32', 9), tf.sub(1, tf.expandDims(mask, 3))),
  ); // padded only
  const perturbed = tf.add(features, noise) as tf.Tensor4D;
  const a = detrFromFeatures(p, TINY, features, mask, EVAL);
  const b = detrFromFeatures(p, TINY, perturbed, mask, EVAL);
  assert.ok(maxAbsDiff(noise, tf.zerosLike(noise)) > 1, 'the perturbation is real');
  assert.equal(maxAbsDiff(a.logits, b.logits), 0);
  assert.equal(maxAbsDiff(a.auxPredBoxes, b.auxPredBoxes), 0);
  // decoder alone: replace memory at padded tokens
  const hs = tf.tidy(() => {
    const tokenMask = tf.reshape(mask, [2, 12]);
    const keyValid = keyValidFromMask(tokenMask as tf.Tensor2D);
    const rng = new Rng(2);
    const memory = tf.tensor3d(rng.normals(2 * 12 * 16), [2, 12, 16]);
    const memory2 = tf.add(memory, tf.mul(tf.expandDims(tf.sub(1, tokenMask), 2), 1e3)) as tf.Tensor3D;
    const pos = tf.tensor3d(rng.normals(2 * 12 * 16), [2, 12, 16]);
    const queryPos = tf.tile(
      tf.expandDims(p.get('model.query_position_embeddings.weight'), 0),
      [2, 1, 1],
    ) as tf.Tensor3D;
    const cfg = { nHeads: 2, dropout: 0, attentionDropout: 0, activationDropout: 0 };
    return [
      decoder(p, 3, { memory, pos, keyValid, queryPos }, cfg, EVAL),
      decoder(p, 3, { memory: memory2, pos, keyValid, queryPos }, cfg, EVAL),
    ];
  });
  assert.equal(maxAbsDiff(hs[0], hs[1]), 0);
  tf.dispose([a, b, features, mask, noise, perturbed, hs]);
  p.dispose();
});

test('dropout: eval is deterministic and dropout-free; training is seeded by the Rng', () => {
  const cfg = resolveDetr({ ...TINY, dropout: 0.5, attentionDropout: 0.2, activationDropout: 0.2 });
  const p = tinyStore(cfg);
  const { features, mask } = standInFeatures(1, 3, 3, [[3, 3]]);
  const e1 = detrFromFeatures(p, cfg, features, mask, EVAL),
    e2 = detrFromFeatures(p, cfg, features, mask, EVAL);
  const t1 = detrFromFeatures(p, cfg, features, mask, { training: true, rng: new Rng(4) });
  const t2 = detrFromFeatures(p, cfg, features, mask, { training: true, rng: new Rng(4) });
  const t3 = detrFromFeatures(p, cfg, features, mask, { training: true, rng: new Rng(5) });
  assert.equal(maxAbsDiff(e1.logits, e2.logits), 0);
  assert.equal(maxAbsDiff(t1.logits, t2.logits), 0);
  assert.ok(maxAbsDiff(t1.logits, t3.logits) > 1e-3);
  assert.ok(maxAbsDiff(t1.logits, e1.logits) > 1e-3);
  assert.throws(() => detrFromFeatures(p, cfg, features, mask, { training: true }), /needs an Rng/);
  tf.dispose([e1, e2, t1, t2, t3, features, mask]);
  p.dispose();
});

test('no tensor leak across forward and backward', () => {
  const p = tinyStore();
  const { features, mask } = standInFeatures(2, 3, 4, [
    [3, 4],
    [2, 3],
  ]);
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => {
    const out = detrFromFeatures(p, TINY, features, mask, { training: true, rng: new Rng(1) });
    return tf.add(tf.sum(out.logits), tf.sum(out.auxPredBoxes)) as tf.Scalar;
  }, [...p.trainable().values()]);
  assert.equal(Object.keys(grads).length, p.trainable().size);
  tf.dispose([value, grads]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([features, mask]);
  p.dispose();
});
