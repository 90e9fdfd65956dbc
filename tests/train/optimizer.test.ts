import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, clipGradNorm } from '../../lib/train/optimizer.js';
import { initEngine } from '../../lib/engine/backend.js';

before(async () => { await initEngine({ backend: 'cpu', log: null }); });

/** PyTorch AdamW on one scalar, written out by hand (torch/optim/adamw.py, single-tensor path). */
function torchAdamW(p: number, grads: number[], lr: number, wd: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): number {
  let m = 0, v = 0;
  grads.forEach((g, i) => {
    const t = i + 1;
    p *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const denom = Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps;
    p -= (lr / (1 - b1 ** t)) * (m / denom);
  });
  return p;
}

test('AdamW matches PyTorch step by step, with two groups at their own lr and decoupled weight decay', () => {
  const a = tf.variable(tf.tensor1d([1.0, -2.0]));
  const b = tf.variable(tf.tensor1d([0.5]));
  const opt = new AdamW([
    { name: 'backbone', lr: 1e-2, weightDecay: 1e-1, params: new Map([['a', a]]) },
    { name: 'transformer', lr: 1e-1, weightDecay: 1e-1, params: new Map([['b', b]]) },
  ]);
  const gA = [[0.3, -1.2], [0.1, 0.4], [-0.5, 2.0]];
  const gB = [[1.0], [-1.0], [0.25]];
  for (let i = 0; i < 3; i++) {
    opt.apply(new Map([['a', tf.tensor1d(gA[i])], ['b', tf.tensor1d(gB[i])]]));
  }
  const av = a.dataSync(), bv = b.dataSync();
  // float32 arithmetic vs a float64 reference: agree to ~1e-6 of the values.
  assert.ok(Math.abs(av[0] - torchAdamW(1.0, gA.map((g) => g[0]), 1e-2, 1e-1)) < 2e-6);
  assert.ok(Math.abs(av[1] - torchAdamW(-2.0, gA.map((g) => g[1]), 1e-2, 1e-1)) < 2e-6);
  assert.ok(Math.abs(bv[0] - torchAdamW(0.5, gB.map((g) => g[0]), 1e-1, 1e-1)) < 2e-6);
  assert.ok(Math.abs(av[0] - 1.0) > 1e-2, 'the update is large compared with float32 resolution');
  // The first Adam step moves each weight by ≈ lr (|m̂/√v̂| = 1): the groups really use their own lr.
  assert.ok(Math.abs(1.0 - torchAdamW(1.0, [0.3], 1e-5, 0) - 1e-5) < 1e-9);
  opt.dispose(); a.dispose(); b.dispose();
});

test('state round trip: a resumed optimizer continues exactly', async () => {
  const mk = () => tf.variable(tf.tensor1d([0.2, 0.4, -0.6]));
  const p1 = mk(), p2 = mk();
  const o1 = new AdamW([{ name: 'g', lr: 1e-2, weightDecay: 0.1, params: new Map([['p', p1]]) }]);
  const grads = [[1, 2, 3], [-1, 0.5, 0], [0.1, 0.1, 0.1]].map((g) => new Map([['p', tf.tensor1d(g)]]));
  o1.apply(grads[0]);
  p2.assign(p1);
  const o2 = new AdamW([{ name: 'g', lr: 999, weightDecay: 0.1, params: new Map([['p', p2]]) }]);
  o2.loadState(await o1.state());
  assert.equal(o2.groups[0].lr, 1e-2);
  for (const g of grads.slice(1)) { o1.apply(g); o2.apply(g); }
  assert.deepEqual([...p1.dataSync()], [...p2.dataSync()]);
  assert.equal(o2.step, 3);
});

test('clipGradNorm follows torch.nn.utils.clip_grad_norm_', async () => {
  const grads = new Map([['x', tf.tensor1d([3, 0])], ['y', tf.tensor1d([4])]]); // ‖·‖ = 5
  const { grads: c, totalNorm } = await clipGradNorm(grads, 0.1);
  assert.equal(totalNorm, 5);
  const coef = 0.1 / (5 + 1e-6);
  assert.ok(Math.abs(c.get('x')!.dataSync()[0] - 3 * coef) < 1e-7);
  assert.ok(Math.abs(c.get('y')!.dataSync()[0] - 4 * coef) < 1e-7);
  const small = await clipGradNorm(new Map([['x', tf.tensor1d([0.01])]]), 0.1);
  assert.equal(small.grads.get('x')!.dataSync()[0], Math.fround(0.01));
});
