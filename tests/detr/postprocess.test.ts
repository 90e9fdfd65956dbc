import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import { postprocess, toCocoResults, toAbsXywh } from '../../lib/detr/postprocess.js';

before(async () => {
  await initEngine({ backend: 'cpu', log: null });
});
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-5, `${a} vs ${b}`);

test('softmax, no-object dropped, best class, absolute xywh at the original size, COCO ids', async () => {
  // K = 2 (COCO ids 18, 44), Q = 3. Query 0: logits [ln 6, ln 3, 0] → probs .6/.3/.1 → label 0 score .6
  // query 1: [0, 0, ln 8] → .1/.1/.8 (no-object wins, but we report the best real class: label 0, .1)
  // query 2: [0, ln 4, ln 5] → .1/.4/.5 → label 1 score .4
  const logits = tf.tensor3d([
    [
      [Math.log(6), Math.log(3), 0],
      [0, 0, Math.log(8)],
      [0, Math.log(4), Math.log(5)],
    ],
  ]);
  const boxes = tf.tensor3d([
    [
      [0.5, 0.5, 0.5, 0.25],
      [0.1, 0.1, 0.1, 0.1],
      [0.25, 0.75, 0.5, 0.5],
    ],
  ]);
  const before = tf.memory().numTensors;
  const [dets] = await postprocess(logits, boxes, [{ imageId: 7, width: 640, height: 480 }], [18, 44]);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(
    dets.map((d) => [d.label, d.categoryId]),
    [
      [0, 18],
      [1, 44],
      [0, 18],
    ],
  );
  close(dets[0].score, 0.6);
  close(dets[1].score, 0.4);
  close(dets[2].score, 0.1);
  dets[0].bboxXywhAbs.forEach((v, i) => close(v, [160, 180, 320, 120][i]));
  dets[1].bboxXywhAbs.forEach((v, i) => close(v, [0, 240, 320, 240][i]));
  const thr = (
    await postprocess(logits, boxes, [{ imageId: 7, width: 640, height: 480 }], [18, 44], { threshold: 0.4 })
  )[0];
  assert.deepEqual(
    thr.map((d) => d.label),
    [0],
  ); // 0.4 is not > 0.4
  const top = (await postprocess(logits, boxes, [{ imageId: 7, width: 640, height: 480 }], [18, 44], { topK: 2 }))[0];
  assert.equal(top.length, 2);
  const coco = toCocoResults([top]);
  assert.deepEqual(Object.keys(coco[0]), ['image_id', 'category_id', 'bbox', 'score']);
  assert.equal(coco[1].category_id, 44);
  tf.dispose([logits, boxes]);
});

test('toAbsXywh scales corners then subtracts', () => {
  assert.deepEqual(toAbsXywh([0.5, 0.5, 1, 1], 100, 50), [0, 0, 100, 50]);
});
