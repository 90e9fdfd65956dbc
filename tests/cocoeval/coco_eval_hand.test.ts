/** AP worked out by hand on one-class cases (boxes with IoU 1 unless said, so every threshold agrees). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataset, det, evaluate, big, precisionAt, recallAt, ONE } from './fixtures.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('one class, known PR curve: TP FP TP FP TP over 4 GT', () => {
  // 4 GT (large), detections by score: TP, FP, TP, FP, TP; the 4th GT is never found.
  //   tp = 1 1 2 2 3, fp = 0 1 1 2 2 → recall .25 .25 .5 .5 .75, precision 1 .5 .667 .5 .6
  //   envelope (max to the right): 1 .667 .667 .6 .6
  //   recall thresholds 0….25 (26 points) → 1; .26….50 (25) → 2/3; .51….75 (25) → .6; .76…1 (25) → 0
  //   AP = (26 + 25·2/3 + 25·0.6) / 101 = 173/303 = 0.570957…, at every IoU threshold.
  const gt = dataset(
    [1],
    [0, 200, 400, 600].map((x) => ({ image: 1, cat: 1, box: big(x) })),
  );
  const dets = [
    det(1, 1, big(0), 0.9),
    det(1, 1, big(0, 500), 0.8),
    det(1, 1, big(200), 0.7),
    det(1, 1, big(200, 500), 0.6),
    det(1, 1, big(400), 0.5),
  ];
  const r = evaluate(gt, dets);
  const expected = [...Array(26).fill(ONE), ...Array(25).fill(2 / 3), ...Array(25).fill(0.6), ...Array(25).fill(0)];
  for (let t = 0; t < 10; t++)
    for (let ri = 0; ri < 101; ri++) assert.equal(precisionAt(r, t, ri, 0, 0, 2), expected[ri], `t${t} r${ri}`);
  close(r.statsByName.map, 173 / 303);
  close(r.statsByName.map_50, 173 / 303);
  close(r.statsByName.map_75, 173 / 303);
  close(r.statsByName.map_large, 173 / 303);
  assert.equal(r.statsByName.map_small, -1); // no small or medium GT
  assert.equal(r.statsByName.map_medium, -1);
  assert.equal(r.statsByName.mar_1, 0.25); // maxDets 1: only the first detection (a TP)
  assert.equal(r.statsByName.mar_10, 0.75);
  assert.equal(r.statsByName.mar_100, 0.75);
  assert.equal(r.statsByName.mar_large, 0.75);
  assert.deepEqual([r.statsByName.mar_small, r.statsByName.mar_medium], [-1, -1]);
  close(r.perCategory[0].stats.map, 173 / 303);
});

test('IoU 0.8 is a TP up to threshold 0.8 inclusive and a FP above', () => {
  // GT 100×100, detection 100×80 inside it: IoU = 8000 / 10000 = 0.8 exactly (iouThrs[6] is 0.8 exactly).
  // Thresholds .50….80 (7): precision 1 at all 101 recall points; .85, .90, .95: 0. AP = 0.7, AR = 0.7.
  const r = evaluate(dataset([1], [{ image: 1, cat: 1, box: big(0) }]), [det(1, 1, [0, 0, 100, 80], 0.9)]);
  for (let t = 0; t < 10; t++) assert.equal(precisionAt(r, t, 50, 0, 0, 2), t <= 6 ? ONE : 0, `t${t}`);
  close(r.statsByName.map, 0.7);
  close(r.statsByName.map_50, 1);
  close(r.statsByName.map_75, 1);
  close(r.statsByName.mar_100, 0.7);
});

test('recall thresholds are linspace values: recall 7/20 does not reach recThrs[35]', () => {
  // 20 GT; detections: 7 TP, 1 FP, 13 TP. Precision at the c-th TP: c/c = 1 for c ≤ 7, then c/(c+1).
  // Envelope: 1 up to the 7th TP, then 20/21 (the last point dominates 8/9 … 19/20).
  // recThrs[35] = 0.35000000000000003 > 7/20, so it reads the 8th TP: 35 points of 1 and 66 of 20/21.
  // With thresholds i/100 it would be 36 and 65 (AP higher by 4.7e-4).
  const xs = Array.from({ length: 20 }, (_, i) => 110 * i);
  const gt = dataset(
    [1],
    xs.map((x) => ({ image: 1, cat: 1, box: big(x) })),
  );
  const dets = xs.map((x, i) => det(1, 1, big(x), 0.9 - i * 0.01));
  dets.splice(7, 0, det(1, 1, big(0, 500), 0.835));
  const r = evaluate(gt, dets);
  assert.equal(precisionAt(r, 0, 34, 0, 0, 2), 1);
  assert.equal(precisionAt(r, 0, 35, 0, 0, 2), 20 / 21);
  close(r.statsByName.map, (35 + 66 * (20 / 21)) / 101);
  assert.ok(Math.abs(r.statsByName.map - (36 + 65 * (20 / 21)) / 101) > 4e-4);
});

test('all detections wrong: AP 0, AR 0 (not −1: the category has GT)', () => {
  const r = evaluate(dataset([1], [{ image: 1, cat: 1, box: big(0) }]), [det(1, 1, big(0, 400), 0.9)]);
  assert.equal(r.statsByName.map, 0);
  assert.equal(r.statsByName.mar_100, 0);
  assert.equal(recallAt(r, 0, 0, 0, 2), 0);
});

test('two images, two classes: per-category AP and the mean over categories', () => {
  // class 1: 2 GT, found both with no FP → AP 1. class 2: 1 GT, one FP ranked above the TP:
  // precision 0 then 1/2 → envelope 1/2 at recall 1 → AP 0.5. mAP = (1 + 0.5) / 2.
  const gt = dataset(
    [1, 2],
    [
      { image: 1, cat: 1, box: big(0) },
      { image: 2, cat: 1, box: big(0) },
      { image: 2, cat: 2, box: big(300) },
    ],
    [1, 2],
  );
  const dets = [det(1, 1, big(0), 0.6), det(2, 1, big(0), 0.7), det(2, 2, big(600), 0.9), det(2, 2, big(300), 0.8)];
  const r = evaluate(gt, dets);
  assert.equal(r.perCategory[0].stats.map, 1); // 1st TP: 1/(1+eps); 2nd: 2/(2+eps) = 1 lifts the envelope
  close(r.perCategory[1].stats.map, 0.5);
  close(r.statsByName.map, (1 + 0.5) / 2);
  assert.deepEqual(
    r.perCategory.map((c) => [c.categoryId, c.name, c.numGt, c.numDets]),
    [
      [1, 'c1', 2, 2],
      [2, 'c2', 1, 2],
    ],
  );
});
