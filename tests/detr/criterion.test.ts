import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import { Rng } from '../../lib/engine/rng.js';
import { setCriterion, lossValues, numBoxes, lossWeight } from '../../lib/detr/criterion.js';
import { hungarianMatch, matchCosts, DetrTarget } from '../../lib/detr/matcher.js';
import { variableGradsAsync } from '../../lib/engine/async_grads.js';
import { DetrOutput, detrFromFeatures } from '../../lib/detr/detr_forward.js';
import { DEFAULT_LOSS, DEFAULT_MATCHER, resolveDetr } from '../../lib/detr/config.js';
import { TINY, tinyStore, standInFeatures } from './fixtures.js';
import { isUserError } from '../../lib/params/user_error.js';

before(async () => {
  await initEngine({ backend: 'cpu', log: null });
});
const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
const CFG = { numClasses: 2, auxLoss: true, matcher: DEFAULT_MATCHER, loss: DEFAULT_LOSS };

/**
 * Image 0: one target (label 1, box [.5,.5,.2,.2]); query 0 predicts [.5,.5,.2,.4] with uniform logits,
 * query 1 predicts a far box with logits [0, 0, ln 2] (softmax ¼, ¼, ½). Image 1: same predictions, no target.
 * Two decoder layers with identical outputs, so the aux terms equal the main ones.
 */
function tinyCase(): { out: DetrOutput; targets: DetrTarget[] } {
  const logits = [
    [
      [0, 0, 0],
      [0, 0, Math.LN2],
    ],
    [
      [0, 0, 0],
      [0, 0, Math.LN2],
    ],
  ];
  const boxes = [
    [
      [0.5, 0.5, 0.2, 0.4],
      [0.2, 0.2, 0.1, 0.1],
    ],
    [
      [0.5, 0.5, 0.2, 0.4],
      [0.2, 0.2, 0.1, 0.1],
    ],
  ];
  return {
    out: {
      logits: tf.tensor3d(logits),
      predBoxes: tf.tensor3d(boxes),
      auxLogits: tf.tensor4d([logits]),
      auxPredBoxes: tf.tensor4d([boxes]),
    },
    targets: [
      { labels: [1], boxesCxcywh: [[0.5, 0.5, 0.2, 0.2]] },
      { labels: [], boxesCxcywh: [] },
    ],
  };
}

test('matching cost and every loss term against hand-computed values', async () => {
  const { out, targets } = tinyCase();
  // cost(q0) = 5·0.2 − 1/3 − 2·0.5; cost(q1) = 5·0.8 − 1/4 + 2·0.753086… (disjoint: GIoU = −(0.2025−0.05)/0.2025)
  const costs = await matchCosts(out.logits, out.predBoxes, targets, DEFAULT_MATCHER);
  close(costs[0][0][0], 1 - 1 / 3 - 1);
  close(costs[0][1][0], 4 - 0.25 + 2 * (0.1525 / 0.2025));
  assert.deepEqual(costs[1], [[], []]);
  const loss = await setCriterion(out, targets, CFG);
  assert.deepEqual(loss.matches, [
    { pred: [0], tgt: [0] },
    { pred: [], tgt: [] },
  ]);
  const v = await lossValues(loss);
  // CE: q0/img0 → class 1 (w 1, nll ln 3); q1/img0 → no-object (w .1, nll ln 2); img1: both no-object (w .1)
  const ce = (Math.log(3) + 0.1 * Math.LN2 + 0.1 * Math.log(3) + 0.1 * Math.LN2) / 1.3;
  close(v.loss_ce, ce);
  close(v.loss_bbox, 0.2); // |0.4 − 0.2| / numBoxes 1
  close(v.loss_giou, 0.5); // target inside prediction: IoU 0.04/0.08, enclosing = union
  close(v.loss_ce_0, ce);
  close(v.loss_bbox_0, 0.2);
  close(v.loss_giou_0, 0.5);
  close(v.loss_total, 2 * (ce + 5 * 0.2 + 2 * 0.5));
  assert.deepEqual(Object.keys(loss.terms), [
    'loss_ce',
    'loss_bbox',
    'loss_giou',
    'loss_ce_0',
    'loss_bbox_0',
    'loss_giou_0',
  ]);
  tf.dispose([out, loss.total, loss.terms]);
});

test('zero-target batch: only no-object CE, box terms 0, numBoxes clamped to 1', async () => {
  const { out } = tinyCase();
  const targets: DetrTarget[] = [
    { labels: [], boxesCxcywh: [] },
    { labels: [], boxesCxcywh: [] },
  ];
  assert.equal(numBoxes(targets), 1);
  const loss = await setCriterion(out, targets, { ...CFG, auxLoss: false });
  const v = await lossValues(loss);
  close(v.loss_ce, (Math.log(3) + Math.LN2) / 2); // weights all 0.1 → plain mean
  assert.equal(v.loss_bbox, 0);
  assert.equal(v.loss_giou, 0);
  assert.deepEqual(Object.keys(loss.terms), ['loss_ce', 'loss_bbox', 'loss_giou']);
  tf.dispose([out, loss.total, loss.terms]);
});

test('weights: one place, by name', () => {
  assert.equal(lossWeight('loss_bbox_3', DEFAULT_LOSS), 5);
  assert.equal(lossWeight('loss_giou', DEFAULT_LOSS), 2);
  assert.throws(() => lossWeight('cardinality_error', DEFAULT_LOSS));
});

test('bad targets are UserErrors', async () => {
  const { out } = tinyCase();
  const bad = (t: DetrTarget[], re: RegExp) =>
    assert.rejects(setCriterion(out, t, CFG), (e: Error) => isUserError(e) && re.test(e.message));
  await bad(
    [
      { labels: [2], boxesCxcywh: [[0.5, 0.5, 0.1, 0.1]] },
      { labels: [], boxesCxcywh: [] },
    ],
    /label 2 at 0 is not an integer in \[0, 2\)/,
  );
  await bad(
    [
      { labels: [0], boxesCxcywh: [] },
      { labels: [], boxesCxcywh: [] },
    ],
    /1 labels but 0 boxes/,
  );
  await bad([{ labels: [], boxesCxcywh: [] }], /1 target entries for a batch of 2/);
  await bad(
    [
      { labels: [0], boxesCxcywh: [[0.5, 0.5, -0.1, 0.1]] },
      { labels: [], boxesCxcywh: [] },
    ],
    /negative width or height/,
  );
  tf.dispose(out);
});

test('batched matching equals per-image matching', async () => {
  const rng = new Rng(3);
  const b = 3,
    q = 7,
    k1 = 5;
  const logits = tf.tensor3d(rng.normals(b * q * k1), [b, q, k1]);
  const boxes = tf.tensor3d(
    Array.from({ length: b * q * 4 }, () => rng.uniform(0.1, 0.6)),
    [b, q, 4],
  );
  const targets: DetrTarget[] = [3, 0, 5].map((n) => ({
    labels: Array.from({ length: n }, () => rng.int(0, 3)),
    boxesCxcywh: Array.from({ length: n }, () => [
      rng.uniform(0.2, 0.8),
      rng.uniform(0.2, 0.8),
      rng.uniform(0.05, 0.3),
      rng.uniform(0.05, 0.3),
    ]),
  }));
  const batched = await hungarianMatch(logits, boxes, targets, DEFAULT_MATCHER);
  for (const [i, t] of targets.entries()) {
    const [li, bi] = [tf.slice(logits, [i, 0, 0], [1, -1, -1]), tf.slice(boxes, [i, 0, 0], [1, -1, -1])];
    assert.deepEqual(batched[i], (await hungarianMatch(li, bi, [t], DEFAULT_MATCHER))[0]);
    tf.dispose([li, bi]);
    assert.equal(batched[i].pred.length, t.labels.length);
  }
  tf.dispose([logits, boxes]);
});

test('a tiny model overfits one batch (loss drops), without leaking tensors', async () => {
  const cfg = resolveDetr({ ...TINY, dropout: 0 });
  const p = tinyStore(cfg, 0);
  const { features, mask } = standInFeatures(2, 4, 4, [
    [4, 4],
    [3, 2],
  ]);
  const targets: DetrTarget[] = [
    {
      labels: [0, 2],
      boxesCxcywh: [
        [0.3, 0.3, 0.2, 0.2],
        [0.7, 0.6, 0.3, 0.4],
      ],
    },
    { labels: [1], boxesCxcywh: [[0.5, 0.5, 0.4, 0.3]] },
  ];
  const opt = tf.train.adam(5e-3);
  const losses: number[] = [];
  const rng = new Rng(0);
  let afterFirst = 0;
  for (let step = 0; step < 25; step++) {
    const vars = [...p.trainable().values()];
    const { value, grads } = await variableGradsAsync(
      async () =>
        (await setCriterion(detrFromFeatures(p, cfg, features, mask, { training: true, rng }), targets, cfg)).total,
      vars,
    );
    opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    losses.push((await value.data())[0]);
    tf.dispose([value, grads]);
    if (step === 0) afterFirst = tf.memory().numTensors; // Adam's moments exist from here on
  }
  assert.ok(losses.every(Number.isFinite));
  assert.ok(
    losses[losses.length - 1] < 0.5 * losses[0],
    `loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)}`,
  );
  assert.equal(tf.memory().numTensors, afterFirst, 'steps leak no tensors');
  opt.dispose();
  tf.dispose([features, mask]);
  p.dispose();
});
