import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/backend.js';
import { Rng } from '../../lib/engine/rng.js';
import { DetrModel } from '../../lib/detr/model.js';
import { loadDetectionSplit } from '../../lib/data/dataset.js';
import { DEMO_AUGMENT } from '../../lib/data/augment.js';
import { DetrBatch } from '../../lib/data/types.js';
import { evaluateCoco } from '../../lib/cocoeval/coco_eval.js';
import { batchResults, evaluateSplit, predictSplit } from '../../lib/eval/inference.js';
import { openPredictor, Predictor } from '../../lib/predict/index.js';
import { evalLoader, readSplitGroundTruth } from '../../lib/eval/stage_inputs.js';
import { prCurveChart } from '../../lib/eval/eval_tables.js';
import { UserError } from '../../lib/params/user_error.js';
import type { Prediction } from '../../lib/predict/index.js';
import { CATEGORY_IDS, CLASSES, makeTinySubset, tinyDetr } from './inference_fixture.js';

const labelMap = { classes: CLASSES, categoryIds: CATEGORY_IDS };
const augment = { ...DEMO_AUGMENT, valSize: 48, maxSize: 96 };
let root: string;

before(async () => {
  await initEngine({ backend: 'wasm', log: null });
  root = await makeTinySubset(6);
});

const oneImageBatch = (h: number, w: number): DetrBatch => ({
  pixels: new Float32Array(0),
  mask: new Uint8Array(0),
  shape: [1, 8, 8],
  imageIds: [42],
  targets: [{ imageId: 42, labels: [], boxesCxcywh: [], areas: [], origSize: [h, w], size: [8, 8] }],
});

test('batchResults: softmax scores, best real class, boxes at the original size, label → category id, threshold and top-k', async () => {
  // B=1, Q=2, K=2 (+ no-object). q0 logits [2, 0, 0] → label 0, score e²/(e²+2); q1 [0, 1, 3] → label 1, score e/(1+e+e³).
  const pred: Prediction = {
    shape: [1, 2, 3],
    logits: Float32Array.from([2, 0, 0, 0, 1, 3]),
    boxes: Float32Array.from([0.5, 0.5, 0.2, 0.4, 0.25, 0.5, 0.5, 1]),
  };
  const lm = { classes: ['a', 'b'], categoryIds: [5, 9] };
  const before = tf.memory().numTensors;
  const all = await batchResults(pred, oneImageBatch(50, 100), lm, { scoreThr: 0 });
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
  const e = Math.E;
  assert.equal(all.length, 2);
  assert.equal(all[0].category_id, 5);
  assert.ok(Math.abs(all[0].score - e ** 2 / (e ** 2 + 2)) < 1e-6);
  all[0].bbox.forEach((v, i) => assert.ok(Math.abs(v - [40, 15, 20, 20][i]) < 1e-4, `bbox ${all[0].bbox}`)); // xyxy [.4,.3,.6,.7]·[100,50,100,50]
  assert.equal(all[1].category_id, 9);
  assert.ok(Math.abs(all[1].score - e / (1 + e + e ** 3)) < 1e-6);
  all[1].bbox.forEach((v, i) => assert.ok(Math.abs(v - [0, 0, 50, 50][i]) < 1e-4, `bbox ${all[1].bbox}`));
  assert.deepEqual(
    (await batchResults(pred, oneImageBatch(50, 100), lm, { scoreThr: 0.5 })).map((r) => r.category_id),
    [5],
  );
  const s1 = e / (1 + e + e ** 3); // 0.11419…
  assert.equal((await batchResults(pred, oneImageBatch(50, 100), lm, { scoreThr: s1 - 1e-4 })).length, 2);
  assert.equal((await batchResults(pred, oneImageBatch(50, 100), lm, { scoreThr: s1 + 1e-4 })).length, 1);
  assert.deepEqual(
    (await batchResults(pred, oneImageBatch(50, 100), lm, { scoreThr: 0, topK: 1 })).map((r) => r.category_id),
    [5],
  );
});

/** Predicts each image's own (resized, normalised) targets with logit 10 for the true class. */
const oracle = (q: number, k: number): Predictor => ({
  async predict(b: DetrBatch): Promise<Prediction> {
    const n = b.targets.length,
      logits = new Float32Array(n * q * (k + 1)),
      boxes = new Float32Array(n * q * 4);
    b.targets.forEach((t, i) => {
      for (let j = 0; j < q; j++) {
        const row = (i * q + j) * (k + 1);
        if (j < t.labels.length) {
          logits[row + t.labels[j]] = 10;
          boxes.set(t.boxesCxcywh[j], (i * q + j) * 4);
        } else logits[row + k] = 10;
      }
    });
    return { logits, boxes, shape: [n, q, k + 1] };
  },
});

test('an oracle predicting the loader targets gives back the GT boxes at original size (mixed sizes, padding, resize) and mAP 1', async () => {
  const split = await loadDetectionSplit(root, 'val');
  const gt = readSplitGroundTruth(root, 'val');
  const r = await evaluateSplit(oracle(4, 3), evalLoader(split, augment, 4), gt, { scoreThr: 0 });
  assert.equal(r.counts.images, 6);
  assert.equal(r.counts.imagesSkipped, 0);
  assert.equal(r.results.length, 6 * 4);
  const confident = r.results.filter((x) => x.score > 0.5);
  const nonCrowd = gt.annotations.filter((a) => !a.iscrowd);
  assert.equal(confident.length, nonCrowd.length);
  for (const a of nonCrowd) {
    const hit = confident.find(
      (d) =>
        d.image_id === a.image_id &&
        d.category_id === a.category_id &&
        d.bbox.every((v, i) => Math.abs(v - a.bbox[i]) < 1e-3),
    );
    assert.ok(hit, `annotation ${a.id} ${a.bbox} (category ${a.category_id}) not predicted back`);
  }
  assert.ok(Math.abs(r.eval.statsByName.map - 1) < 1e-12, `mAP ${r.eval.statsByName.map}`);
  assert.deepEqual(
    r.eval.stats,
    evaluateCoco(gt, r.results, { quiet: true }).stats,
    'same as evaluating the results directly',
  );
  const pr = (prCurveChart(r.eval).data as { values: Array<{ iou: string; recall: number; precision: number }> })
    .values;
  assert.equal(pr.filter((v) => v.iou === 'IoU .50').length, 101);
  assert.ok(
    pr.every((v) => v.precision === 1),
    'the oracle keeps precision 1 at every recall threshold',
  );
  const thr = await predictSplit(oracle(4, 3), evalLoader(split, augment, 4), labelMap, { scoreThr: 0.5 });
  assert.deepEqual(thr, confident, 'a score threshold drops exactly the detections at or below it');
});

test(
  'a real tiny DETR: every query kept at scoreThr 0, no tensor leak; 2 worker threads give the in-process detections',
  { timeout: 120_000 },
  async () => {
    const split = await loadDetectionSplit(root, 'val');
    const cfg = tinyDetr();
    const before = tf.memory().numTensors;
    const single = await openPredictor(DetrModel.create(cfg, new Rng(7)), { workers: 1, backend: 'wasm' });
    const a = await predictSplit(single, evalLoader(split, augment, 3), labelMap, { scoreThr: 0 });
    await single.dispose();
    assert.equal(tf.memory().numTensors, before, 'predictor disposed with its model, nothing leaked');
    assert.equal(a.length, 6 * cfg.numQueries);
    assert.ok(a.every((d) => CATEGORY_IDS.includes(d.category_id) && d.score > 0 && d.score < 1));
    const parallel = await openPredictor(DetrModel.create(cfg, new Rng(7)), { workers: 2, backend: 'wasm' });
    try {
      assert.equal(parallel.workers, 2);
      const b = await predictSplit(parallel, evalLoader(split, augment, 3), labelMap, { scoreThr: 0 });
      assert.equal(b.length, a.length);
      b.forEach((d, i) => {
        assert.equal(d.image_id, a[i].image_id);
        assert.equal(d.category_id, a[i].category_id);
        assert.ok(Math.abs(d.score - a[i].score) < 1e-5);
        d.bbox.forEach((v, j) => assert.ok(Math.abs(v - a[i].bbox[j]) < 1e-3));
      });
    } finally {
      await parallel.dispose();
    }
  },
);

test('a backend out of memory becomes a UserError that says what to lower; other failures pass through', async () => {
  const split = await loadDetectionSplit(root, 'val');
  const failing = (message: string): Predictor => ({
    predict: async () => {
      throw new Error(message);
    },
  });
  await assert.rejects(
    predictSplit(failing('RuntimeError: memory access out of bounds'), evalLoader(split, augment, 2), labelMap, {
      scoreThr: 0,
    }),
    (e: Error) =>
      e instanceof UserError && /batch of 2 images padded to \d+×\d+/.test(e.message) && /--batch-size/.test(e.message),
  );
  await assert.rejects(
    predictSplit(failing('shape mismatch'), evalLoader(split, augment, 2), labelMap, { scoreThr: 0 }),
    (e: Error) => !(e instanceof UserError) && e.message === 'shape mismatch',
  );
});
