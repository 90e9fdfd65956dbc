/** Invariances, tie-breaking and the −1 conventions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../lib/engine/rng.js';
import { syntheticCase } from '../fixtures/synthetic_eval.js';
import type { CocoEvalResult } from '../../lib/cocoeval/coco_eval.js';
import { dataset, det, evaluate, big, precisionAt, ONE } from './fixtures.js';

const sameArrays = (a: CocoEvalResult, b: CocoEvalResult) => {
  assert.deepEqual(a.stats, b.stats);
  assert.deepEqual(a.arrays.precision, b.arrays.precision);
  assert.deepEqual(a.arrays.recall, b.arrays.recall);
  assert.deepEqual(a.arrays.scores, b.arrays.scores);
};

const base = syntheticCase({ images: 40, categories: 6, gtPerImage: 5, detsPerImage: 30, seed: 11 }); // distinct scores

test('shuffling detections with distinct scores changes nothing', () => {
  const shuffled = new Rng(5).shuffle([...base.dets]);
  sameArrays(evaluate(base.gt, base.dets), evaluate(base.gt, shuffled));
});

test('a zero-score detection far from everything changes only the detection counts', () => {
  const before = evaluate(base.gt, base.dets);
  const after = evaluate(base.gt, [
    ...base.dets,
    det(base.gt.images[3].id, base.gt.categories[0].id, [5000, 5000, 10, 10], 0),
  ]);
  sameArrays(before, after);
  assert.equal(after.counts.dets, before.counts.dets + 1);
  assert.equal(after.perCategory[0].numDets, before.perCategory[0].numDets + 1);
});

test('a high-score false positive changes its own category only, and lowers its AP', () => {
  const cat = base.gt.categories[1].id;
  const before = evaluate(base.gt, base.dets);
  const after = evaluate(base.gt, [...base.dets, det(base.gt.images[0].id, cat, [5000, 5000, 50, 50], 2)]);
  const { T, R, K, A, M } = before.arrays;
  for (let t = 0; t < T; t++)
    for (let r = 0; r < R; r++)
      for (let k = 0; k < K; k++)
        for (let a = 0; a < A; a++)
          for (let m = 0; m < M; m++) {
            if (k === 1) continue;
            assert.equal(precisionAt(after, t, r, k, a, m), precisionAt(before, t, r, k, a, m));
          }
  assert.ok(after.perCategory[1].stats.map < before.perCategory[1].stats.map);
  assert.equal(after.perCategory[1].stats.mar_100, before.perCategory[1].stats.mar_100);
});

test('score ties across images follow image-id order, not file order', () => {
  // Image 1: a TP; image 2: a FP; equal scores. Sorted: image 1 first → TP, FP → precision 1 up to recall 1/2.
  // Swap which image holds the TP → FP, TP → precision 1/2. File order (image 2 first) does not matter.
  const gt = dataset(
    [1, 2],
    [
      { image: 1, cat: 1, box: big(0) },
      { image: 2, cat: 1, box: big(0) },
    ],
  );
  const tpFirst = evaluate(gt, [det(2, 1, big(400), 0.5), det(1, 1, big(0), 0.5)]);
  const fpFirst = evaluate(gt, [det(1, 1, big(400), 0.5), det(2, 1, big(0), 0.5)]);
  assert.equal(precisionAt(tpFirst, 0, 50, 0, 0, 2), ONE);
  assert.equal(precisionAt(fpFirst, 0, 50, 0, 0, 2), 0.5);
});

test('score ties within an image follow file order (stable sort)', () => {
  // Two equal-score detections of one GT: IoU 0.6 and IoU 1. Whichever comes first in the file takes the GT.
  // At threshold .75 the IoU-0.6 one cannot match: if it came first it is a FP ranked before the TP.
  const gt = dataset([1], [{ image: 1, cat: 1, box: big(0) }]);
  const loose = det(1, 1, [0, 0, 100, 60], 0.5),
    tight = det(1, 1, big(0), 0.5);
  const looseFirst = evaluate(gt, [loose, tight]),
    tightFirst = evaluate(gt, [tight, loose]);
  assert.equal(precisionAt(looseFirst, 5, 100, 0, 0, 2), 0.5); // t = .75: FP, TP
  assert.equal(precisionAt(tightFirst, 5, 100, 0, 0, 2), ONE); // TP, FP
  assert.equal(precisionAt(looseFirst, 0, 100, 0, 0, 2), ONE); // t = .50: the loose one takes the GT
});

test('−1 conventions: no GT → −1 (even with detections); only-crowd GT → −1; GT but no detections → 0', () => {
  const gt = dataset(
    [1],
    [
      { image: 1, cat: 1, box: big(0) },
      { image: 1, cat: 2, box: big(300), crowd: true },
    ],
    [1, 2, 3],
  );
  const r = evaluate(gt, [det(1, 3, big(600), 0.9), det(1, 2, big(300), 0.9)]);
  assert.equal(r.perCategory[0].stats.map, 0); // GT, no detection
  assert.equal(r.perCategory[0].stats.mar_100, 0);
  assert.equal(r.perCategory[1].stats.map, -1); // only a crowd GT
  assert.equal(r.perCategory[2].stats.map, -1); // detections but no GT
  assert.equal(r.perCategory[2].stats.mar_100, -1);
  assert.equal(r.statsByName.map, 0); // the mean skips −1 entries
  assert.equal(r.statsByName.map_small, -1); // nothing valid at all → −1
});

test('the ground truth itself as detections scores AP 1 and AR@100 1 in every range', () => {
  const dets = base.gt.annotations.filter((a) => !a.iscrowd).map((a) => det(a.image_id, a.category_id, a.bbox, 1));
  const r = evaluate(base.gt, dets);
  for (const name of [
    'map',
    'map_50',
    'map_75',
    'map_small',
    'map_medium',
    'map_large',
    'mar_100',
    'mar_small',
    'mar_medium',
    'mar_large',
  ] as const) {
    assert.ok(Math.abs(r.statsByName[name] - 1) < 1e-12, `${name} = ${r.statsByName[name]}`);
  }
  assert.ok(r.statsByName.mar_1 < 1); // several objects of one class per image
});
