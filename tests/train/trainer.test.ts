import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/backend.js';
import { Rng } from '../../lib/engine/rng.js';
import { DetrModel } from '../../lib/detr/model.js';
import { resolveDetr } from '../../lib/detr/config.js';
import { InProcessTrainer, ThreadTrainer } from '../../lib/train/trainer.js';
import { TrainBatch, lossNormalizers, splitBatch } from '../../lib/train/batch.js';
import type { Prediction } from '../../lib/predict/prediction.js';

before(async () => {
  await initEngine({ backend: 'wasm', log: null });
});

const tinyCfg = () =>
  resolveDetr(
    {
      numClasses: 3,
      dModel: 32,
      nHeads: 2,
      encoderLayers: 1,
      decoderLayers: 2,
      ffnDim: 64,
      numQueries: 6,
      dropout: 0,
      backbone: { depth: 18, width: 8, numStages: 3, trainableFrom: 'all' },
    },
    'demo',
  );

function batch(seed: number): TrainBatch {
  const rng = new Rng(seed);
  const [b, h, w] = [3, 48, 64];
  const mask = new Uint8Array(b * h * w).fill(1);
  for (let y = 0; y < h; y++) for (let x = 40; x < w; x++) mask[2 * h * w + y * w + x] = 0; // image 2 is padded on the right
  return {
    pixels: rng.normals(b * h * w * 3),
    mask,
    shape: [b, h, w],
    imageIds: [1, 2, 3],
    targets: [
      {
        labels: [0, 2],
        boxesCxcywh: [
          [0.3, 0.4, 0.2, 0.3],
          [0.7, 0.6, 0.3, 0.2],
        ],
      },
      { labels: [], boxesCxcywh: [] },
      {
        labels: [1, 1, 0],
        boxesCxcywh: [
          [0.5, 0.5, 0.4, 0.4],
          [0.2, 0.8, 0.1, 0.1],
          [0.8, 0.2, 0.2, 0.2],
        ],
      },
    ],
  };
}

test('loss normalisers of the whole batch and splitting', () => {
  const b = batch(0);
  assert.deepEqual(lossNormalizers(b.targets, 6, 0.1), {
    ceWeightSum: 2 + 4 * 0.1 + 6 * 0.1 + 3 + 3 * 0.1,
    numBoxes: 5,
  });
  const shares = splitBatch(b, 2);
  assert.deepEqual(
    shares.map((s) => s.shape[0]),
    [1, 2],
  );
  assert.deepEqual(shares[1].imageIds, [2, 3]);
  assert.equal(shares[1].mask[1 * 48 * 64 + 47 * 64 + 63], 0);
});

/** Element-wise |a − b| ≤ tol·max(1, |a|) over logits, boxes and the auxiliary outputs, with equal shapes. */
function assertSamePrediction(a: Prediction, b: Prediction, tol: number, when: string): void {
  assert.deepEqual(a.shape, b.shape, when);
  for (const k of ['logits', 'boxes', 'auxLogits', 'auxBoxes'] as const) {
    const x = a[k]!,
      y = b[k]!;
    assert.ok(x && y && x.length === y.length && x.length > 0, `${when}: ${k} present in both`);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(x[i])));
    assert.ok(worst <= tol, `${when}: ${k} differ by ${worst} (relative)`);
  }
}

test(
  'data-parallel workers give the single-process result (predictions by value, losses, weights after two steps)',
  { timeout: 180_000 },
  async () => {
    const cfg = tinyCfg();
    const optim = { lr: 1e-3, lrBackbone: 1e-4, weightDecay: 1e-4, clipMaxNorm: 0.1 };
    const before = tf.memory().numTensors;
    const single = new InProcessTrainer(DetrModel.create(cfg, new Rng(5)), { optim, seed: 1 });
    const parallel = await ThreadTrainer.start(DetrModel.create(cfg, new Rng(5)), {
      optim,
      seed: 1,
      numWorkers: 2,
      backend: 'wasm',
    });
    try {
      // Same weights: the 2-thread prediction (split 1 + 2 images, joined back) equals the single-process one.
      assertSamePrediction(await single.predict(batch(98)), await parallel.predict(batch(98)), 1e-5, 'before training');
      for (let step = 0; step < 2; step++) {
        const lrs = { lr: optim.lr, lrBackbone: optim.lrBackbone };
        const a = await single.step(batch(10 + step), step, lrs);
        const b = await parallel.step(batch(10 + step), step, lrs);
        for (const k of Object.keys(a.terms))
          assert.ok(
            Math.abs(a.terms[k] - b.terms[k]) <= 1e-4 * Math.max(1, Math.abs(a.terms[k])),
            `${k}: ${a.terms[k]} vs ${b.terms[k]}`,
          );
        assert.ok(Math.abs(a.gradNorm - b.gradNorm) <= 1e-4 * a.gradNorm, `grad norm ${a.gradNorm} vs ${b.gradNorm}`);
      }
      const pa = await single.exportParams(),
        pb = await parallel.exportParams();
      let maxDiff = 0,
        maxAbs = 0;
      for (const [k, v] of pa) {
        const w = pb.get(k)!;
        for (let i = 0; i < v.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(v[i] - w[i]));
          maxAbs = Math.max(maxAbs, Math.abs(v[i]));
        }
      }
      assert.ok(maxDiff < 1e-5 * Math.max(1, maxAbs), `max weight difference ${maxDiff}`);
      // After two steps the replicas' weights agree to ~1e-5 (above), so their predictions agree by value too.
      assertSamePrediction(await single.predict(batch(99)), await parallel.predict(batch(99)), 1e-4, 'after two steps');
    } finally {
      await single.dispose();
      await parallel.dispose();
    }
    assert.equal(tf.memory().numTensors, before, 'no tensors leak');
  },
);
