/**
 * variableGradsAsync (lib/engine/async_grads.ts) on the wasm backend: the gradients
 * of a loss that awaits a read half-way equal tf.variableGrads of the same computation done with
 * sync reads; nothing leaks; an error leaves the engine clean; and the DETR step built on it
 * (tests/engine/webgpu_detr_step.ts) reproduces the trainer's criterion path and optimizer step exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import { Rng } from '../../lib/engine/rng.js';
import { variableGradsAsync } from '../../lib/engine/async_grads.js';
import { resolveDetr } from '../../lib/detr/config.js';
import { DetrModel } from '../../lib/detr/model.js';
import { AdamW } from '../../lib/train/optimizer.js';
import { InProcessTrainer, dropoutSeed } from '../../lib/train/trainer.js';
import { TrainBatch } from '../../lib/train/batch.js';
import { asyncDetrStep, detrTrainStep } from './webgpu_detr_step.js';
import { parityInputs, wasmReference } from './webgpu_parity.js';

/** conv → relu → rows picked by an index read from the values (like a matcher) → loss. */
function lossWithPick(x: tf.Tensor4D, w: tf.Variable, v: tf.Variable, pick: (h: tf.Tensor2D) => number[]): tf.Scalar {
  const h = tf.reshape(tf.relu(tf.conv2d(x, w as tf.Tensor4D, 1, 'same')), [-1, 4]) as tf.Tensor2D; // [N, 4]
  const rows = pick(h);
  const sel = tf.tensor2d(
    rows.map((r) => Array.from({ length: h.shape[0] }, (_, i) => (i === r ? 1 : 0))),
    [rows.length, h.shape[0]],
  ); // [R, N]
  return tf.sum(tf.square(tf.matMul(tf.matMul(sel, h), v as tf.Tensor2D))) as tf.Scalar; // [R, 4]·[4, 2]
}
/** The two rows with the largest sums. */
const argmaxRows = (values: ArrayLike<number>, cols: number): number[] => {
  const vals = Array.from(values);
  const sums = Array.from({ length: vals.length / cols }, (_, r) =>
    vals.slice(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0),
  );
  const order = sums.map((s, i) => [s, i]).sort((a, b) => b[0] - a[0]);
  return [order[0][1], order[1][1]];
};

function setup(): { x: tf.Tensor4D; w: tf.Variable; v: tf.Variable } {
  const rng = new Rng(3);
  return {
    x: tf.tensor4d(rng.normals(2 * 5 * 5 * 3), [2, 5, 5, 3]),
    w: tf.variable(tf.tensor4d(rng.normals(3 * 3 * 3 * 4, 0.3), [3, 3, 3, 4])),
    v: tf.variable(tf.tensor2d(rng.normals(8), [4, 2])),
  };
}

// First in the file: the engine has never opened a tape (state.activeTape does not exist yet).
test('works in a fresh engine', async () => {
  await initEngine({ backend: 'wasm', log: null });
  const v = tf.variable(tf.tensor1d([1, 2, 3]));
  const r = await variableGradsAsync(async () => {
    const y = tf.square(v);
    await y.data();
    return tf.sum(y) as tf.Scalar;
  }, [v]);
  assert.deepEqual(Array.from(r.grads[v.name].dataSync()), [2, 4, 6]);
  assert.equal(r.value.dataSync()[0], 14);
  tf.dispose([r.value, r.grads, v]);
});

test('gradients across an await equal tf.variableGrads with sync reads, and nothing leaks', async () => {
  await initEngine({ backend: 'wasm', log: null });
  const { x, w, v } = setup();
  const before = tf.memory().numTensors;
  const sync = tf.variableGrads(() => lossWithPick(x, w, v, (h) => argmaxRows(h.dataSync(), 4)), [w, v]);
  const got = await variableGradsAsync(async () => {
    const h = tf.reshape(tf.relu(tf.conv2d(x, w as tf.Tensor4D, 1, 'same')), [-1, 4]); // forward part, taped
    const rows = argmaxRows(await h.data(), 4); // the async read
    return lossWithPick(x, w, v, () => rows);
  }, [w, v]);
  assert.equal(got.value.dataSync()[0], sync.value.dataSync()[0]);
  for (const name of [w.name, v.name]) assert.deepEqual(got.grads[name].dataSync(), sync.grads[name].dataSync(), name);
  tf.dispose([got.value, got.grads, sync.value, sync.grads]);
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
  tf.dispose([x, w, v]);
});

test('an error after the await leaves no tensors and no open tape', async () => {
  await initEngine({ backend: 'wasm', log: null });
  const { x, w, v } = setup();
  const before = tf.memory().numTensors;
  await assert.rejects(
    variableGradsAsync(async () => {
      tf.conv2d(x, w as tf.Tensor4D, 1, 'same');
      await Promise.resolve();
      throw new Error('matcher failed');
    }, [w, v]),
    /matcher failed/,
  );
  await assert.rejects(
    variableGradsAsync(async () => tf.sum(x) as tf.Scalar, [w, v]),
    /does not depend on any of the variables/,
  );
  await assert.rejects(
    variableGradsAsync(async () => tf.mul(w, 2) as unknown as tf.Scalar, [w]),
    /must return a scalar tensor, got rank 4/,
  );
  assert.equal(tf.memory().numTensors, before);
  assert.equal((tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth, 0);
  const after = tf.variableGrads(() => tf.sum(tf.mul(v, v)) as tf.Scalar, [v]); // the engine still works
  assert.deepEqual(
    Array.from(after.grads[v.name].dataSync()),
    Array.from(v.dataSync()).map((a) => 2 * a),
  );
  tf.dispose([after.value, after.grads, x, w, v]);
});

test('DETR: the async step (one forward, matching on awaited values) equals the trainer criterion path', async () => {
  const cfg = resolveDetr(
    {
      numClasses: 5,
      dModel: 16,
      nHeads: 2,
      encoderLayers: 1,
      decoderLayers: 2,
      ffnDim: 32,
      numQueries: 5,
      backbone: { depth: 18, width: 4, numStages: 3, trainableFrom: 'all' },
    },
    'demo',
  );
  const c = { cfg, batch: 2, h: 48, w: 64 };
  const x = parityInputs(c);
  const ref = await wasmReference(c, x);
  const model = DetrModel.create(cfg, new Rng(0));
  const before = tf.memory().numTensors;
  const px = tf.tensor4d(x.pixels, [...x.shape, 3]),
    mask = tf.tensor3d(x.mask, x.shape, 'int32'); // [B, H, W, 3], [B, H, W]
  const step = await asyncDetrStep(model, px, mask, x.targets, 7);
  assert.deepEqual(step.matches, ref.matches, 'plain-JS matching on the read values = the matcher');
  for (const [k, want] of Object.entries(ref.terms))
    assert.ok(Math.abs(step.terms[k] - want) <= 1e-6 * Math.abs(want), `${k}: ${step.terms[k]} vs ${want}`);
  assert.deepEqual([...step.grads.keys()].sort(), [...ref.grads.keys()].sort());
  for (const [name, g] of step.grads) assert.deepEqual(g.dataSync(), ref.grads.get(name), name);
  tf.dispose([...step.grads.values(), px, mask]);
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
  model.dispose();
});

test('DETR: a whole async optimizer step (clip, AdamW) leaves the same weights as the trainer step', async () => {
  await initEngine({ backend: 'wasm', log: null });
  const cfg = resolveDetr(
    {
      numClasses: 5,
      dModel: 16,
      nHeads: 2,
      encoderLayers: 1,
      decoderLayers: 2,
      ffnDim: 32,
      numQueries: 5,
      backbone: { depth: 18, width: 4, numStages: 3, trainableFrom: 'layer2' },
    },
    'demo',
  );
  const x = parityInputs({ cfg, batch: 2, h: 48, w: 64 });
  const optim = { lr: 1e-3, lrBackbone: 1e-4, weightDecay: 1e-4, clipMaxNorm: 0.1 };
  const trainer = new InProcessTrainer(DetrModel.create(cfg, new Rng(0)), { optim, seed: 5 });
  const batch: TrainBatch = {
    pixels: x.pixels,
    mask: Uint8Array.from(x.mask),
    shape: x.shape,
    targets: x.targets,
    imageIds: [1, 2],
  };
  const want = await trainer.step(batch, 0, optim);
  const model = DetrModel.create(cfg, new Rng(0));
  const p = model.params;
  const opt = new AdamW([
    { name: 'backbone', lr: optim.lrBackbone, weightDecay: optim.weightDecay, params: p.trainable('backbone') },
    { name: 'transformer', lr: optim.lr, weightDecay: optim.weightDecay, params: p.trainable('transformer') },
  ]);
  const px = tf.tensor4d(x.pixels, [...x.shape, 3]),
    mask = tf.tensor3d(x.mask, x.shape, 'int32'); // [B, H, W, 3], [B, H, W]
  const got = await detrTrainStep(model, opt, px, mask, x.targets, dropoutSeed(5, 0, 0), optim.clipMaxNorm);
  assert.ok(
    Math.abs(got.gradNorm - want.gradNorm) <= 1e-6 * want.gradNorm,
    `grad norm ${got.gradNorm} vs ${want.gradNorm}`,
  );
  assert.ok(Math.abs(got.terms.loss_total - want.terms.loss_total) <= 1e-6 * want.terms.loss_total);
  const after = await trainer.exportParams();
  for (const name of p.names()) assert.deepEqual(p.get(name).dataSync(), after.get(name), name);
  tf.dispose([px, mask]);
  opt.dispose();
  model.dispose();
  await trainer.dispose();
});
