import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, clipGradNorm } from '../../lib/train/optimizer.js';
import { initEngine } from '../../lib/engine/backend.js';

before(async () => {
  await initEngine({ backend: 'cpu', log: null });
});

/*
 * Known answers for the real AdamW class. Step 1 by hand: m̂₁ = g and √v̂₁ = |g|, so
 *   p₁ = p₀·(1 − lr·wd) − lr·g / (|g| + eps)
 * (e.g. 1·(1 − 0.01·0.1) − 0.01·0.3 / (0.3 + 1e-8) = 0.9890000003333334). Steps 2 and 3 are torch.optim.AdamW's
 * (torch 2.13, float64, betas (0.9, 0.999), eps 1e-8, foreach=False) on the same values; it also gives the
 * step-1 values above. AdamW computes in float32, so values agree to a few float32 ulps.
 */
const A_STEPS = [
  [0.9890000003333334, -1.9880000000833333],
  [0.9793003612153863, -1.9820098144084606],
  [0.9801248029682674, -1.9837756999672957],
];
const B_STEPS = [[0.395000001], [0.3963131588321052], [0.38522784426866596]];

test('AdamW against hand-computed and torch.optim.AdamW steps, two groups at their own lr, decoupled weight decay', () => {
  const a = tf.variable(tf.tensor1d([1.0, -2.0]));
  const b = tf.variable(tf.tensor1d([0.5]));
  const opt = new AdamW([
    { name: 'backbone', lr: 1e-2, weightDecay: 1e-1, params: new Map([['a', a]]) },
    { name: 'transformer', lr: 1e-1, weightDecay: 1e-1, params: new Map([['b', b]]) },
  ]);
  const gA = [
    [0.3, -1.2],
    [0.1, 0.4],
    [-0.5, 2.0],
  ];
  const gB = [[1.0], [-1.0], [0.25]];
  for (let i = 0; i < 3; i++) {
    opt.apply(
      new Map([
        ['a', tf.tensor1d(gA[i])],
        ['b', tf.tensor1d(gB[i])],
      ]),
    );
    const av = a.dataSync(),
      bv = b.dataSync();
    A_STEPS[i].forEach((x, j) => assert.ok(Math.abs(av[j] - x) < 1e-6, `step ${i + 1} a[${j}]: ${av[j]} vs ${x}`));
    assert.ok(Math.abs(bv[0] - B_STEPS[i][0]) < 1e-6, `step ${i + 1} b: ${bv[0]} vs ${B_STEPS[i][0]}`);
  }
  assert.equal(opt.step, 3);
  opt.dispose();
  a.dispose();
  b.dispose();
});

test('AdamW: a parameter without a gradient is left alone, zero weight decay leaves only the Adam step', () => {
  const p = tf.variable(tf.tensor1d([2.0])),
    q = tf.variable(tf.tensor1d([3.0]));
  const opt = new AdamW([
    {
      name: 'g',
      lr: 0.5,
      weightDecay: 0,
      params: new Map([
        ['p', p],
        ['q', q],
      ]),
    },
  ]);
  opt.apply(new Map([['p', tf.tensor1d([-4])]]));
  // By hand: 2 − 0.5·(−4) / (4 + 1e-8) = 2.5 (to float32).
  assert.equal(p.dataSync()[0], Math.fround(2 + (0.5 * 4) / (4 + 1e-8)));
  assert.equal(q.dataSync()[0], 3);
  opt.dispose();
  p.dispose();
  q.dispose();
});

test('state round trip: a resumed optimizer continues exactly', async () => {
  const mk = () => tf.variable(tf.tensor1d([0.2, 0.4, -0.6]));
  const p1 = mk(),
    p2 = mk();
  const o1 = new AdamW([{ name: 'g', lr: 1e-2, weightDecay: 0.1, params: new Map([['p', p1]]) }]);
  const grads = [
    [1, 2, 3],
    [-1, 0.5, 0],
    [0.1, 0.1, 0.1],
  ].map((g) => new Map([['p', tf.tensor1d(g)]]));
  o1.apply(grads[0]);
  p2.assign(p1);
  const o2 = new AdamW([{ name: 'g', lr: 999, weightDecay: 0.1, params: new Map([['p', p2]]) }]);
  o2.loadState(await o1.state());
  assert.equal(o2.groups[0].lr, 1e-2);
  for (const g of grads.slice(1)) {
    o1.apply(g);
    o2.apply(g);
  }
  assert.deepEqual([...p1.dataSync()], [...p2.dataSync()]);
  assert.equal(o2.step, 3);
});

test('clipGradNorm follows torch.nn.utils.clip_grad_norm_', async () => {
  const grads = new Map([
    ['x', tf.tensor1d([3, 0])],
    ['y', tf.tensor1d([4])],
  ]); // ‖·‖ = 5
  const { grads: c, totalNorm } = await clipGradNorm(grads, 0.1);
  assert.equal(totalNorm, 5);
  const coef = 0.1 / (5 + 1e-6);
  assert.ok(Math.abs(c.get('x')!.dataSync()[0] - 3 * coef) < 1e-7);
  assert.ok(Math.abs(c.get('y')!.dataSync()[0] - 4 * coef) < 1e-7);
  const small = await clipGradNorm(new Map([['x', tf.tensor1d([0.01])]]), 0.1);
  assert.equal(small.grads.get('x')!.dataSync()[0], Math.fround(0.01));
});
