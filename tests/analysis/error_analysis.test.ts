import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeErrors, zeroCounts, OutcomeCounts } from '../../lib/analysis/error_analysis.js';
import { matchImage } from '../../lib/eval/error_match.js';
import { interpret } from '../../lib/analysis/interpret.js';
import { dataset, det, big } from '../cocoeval/fixtures.js';

const A = 1,
  B = 2;
const counts = (o: Partial<OutcomeCounts>): OutcomeCounts => ({ ...zeroCounts(), ...o });

/**
 * Image 1 holds one of each outcome (all GT 100×100 → large):
 *   g1 A at x=0 ← p1 A exact (tp) and p2 A shifted 5 px (IoU .905, g1 taken → duplicate);
 *   g2 B at x=300 ← p3 A exact (cls_error B→A); g2 missed;
 *   g3 A at x=600 ← p4 A at x=660 (IoU .25 → loc_error); g3 missed;
 *   g4 A at x=800 ← p6 B at x=860 (IoU .25, other class only → cls_loc_error), p7 A exact but score .2 < .3
 *      (left out); g4 missed;
 *   p5 B 50×50 on empty ground (false_pos, medium by its own area);
 *   crowd A region ← p8 A 50×50 inside it (crowd, not an error).
 * Image 2: a clean tp. Image 3: one missed object.
 */
function scene() {
  const gt = dataset(
    [1, 2, 3],
    [
      { image: 1, cat: A, box: big(0) },
      { image: 1, cat: B, box: big(300) },
      { image: 1, cat: A, box: big(600) },
      { image: 1, cat: A, box: big(800) },
      { image: 1, cat: A, box: [0, 500, 300, 300], crowd: true },
      { image: 2, cat: A, box: big(0) },
      { image: 3, cat: B, box: big(0) },
    ],
    [A, B],
  );
  const dets = [
    det(1, A, big(0), 0.9),
    det(1, A, big(5), 0.8),
    det(1, A, big(300), 0.7),
    det(1, A, big(660), 0.6),
    det(1, B, [0, 300, 50, 50], 0.5),
    det(1, B, big(860), 0.45),
    det(1, A, big(800), 0.2),
    det(1, A, [10, 510, 50, 50], 0.4),
    det(2, A, big(0), 0.3),
  ];
  return { gt, dets };
}

test('each error kind on a hand-built image, totals, classes, sizes, confusion, worst images', () => {
  const { gt, dets } = scene();
  const a = analyzeErrors(gt, dets, { iouThr: 0.5, scoreThr: 0.3 });
  assert.deepEqual(
    a.totals,
    counts({ tp: 2, duplicate: 1, cls_error: 1, loc_error: 1, cls_loc_error: 1, false_pos: 1, crowd: 1, missed: 4 }),
  );
  assert.equal(a.gtObjects, 6);
  assert.equal(a.predictions, 8); // p7 (score .2) left out; det on image 2 has score .3 = threshold: kept
  assert.deepEqual(
    a.perClass.map((c) => [c.categoryId, c.gtObjects, c.predictions]),
    [
      [A, 4, 6],
      [B, 2, 2],
    ],
  );
  assert.deepEqual(
    a.perClass[0].counts,
    counts({ tp: 2, duplicate: 1, cls_error: 1, loc_error: 1, crowd: 1, missed: 2 }),
  );
  assert.deepEqual(a.perClass[1].counts, counts({ false_pos: 1, cls_loc_error: 1, missed: 2 }));
  assert.deepEqual(
    a.perSize.large,
    counts({ tp: 2, duplicate: 1, cls_error: 1, loc_error: 1, cls_loc_error: 1, missed: 4 }),
  );
  assert.deepEqual(a.perSize.medium, counts({ false_pos: 1, crowd: 1 }));
  assert.deepEqual(a.perSize.small, counts({}));
  assert.deepEqual(a.confusion, {
    categoryIds: [A, B],
    names: ['c1', 'c2'],
    counts: [
      [0, 0],
      [1, 0],
    ],
  }); // gt B → pred A
  assert.deepEqual(
    a.worstImages.map((w) => [w.imageId, w.errors]),
    [
      [1, 8],
      [3, 1],
    ],
  );
});

test('rule order: a duplicate is not a class error; a class error beats a loose same-class box', () => {
  // g1 A and g2 B share a box. p1 A takes g1; p2 A also covers g1 (taken) and g2 (other class) → duplicate.
  const gts = dataset(
    [1],
    [
      { image: 1, cat: A, box: big(0) },
      { image: 1, cat: B, box: big(0) },
    ],
    [A, B],
  ).annotations;
  const m = matchImage(gts, [det(1, A, big(0), 0.9), det(1, A, big(2), 0.8)], 0.5);
  assert.deepEqual(
    m.predictions.map((p) => p.outcome),
    ['tp', 'duplicate'],
  );
  // p A with IoU .25 to an A object and IoU .9 to a B object → cls_error (B → A).
  const gts2 = dataset(
    [1],
    [
      { image: 1, cat: A, box: big(60) },
      { image: 1, cat: B, box: big(0) },
    ],
    [A, B],
  ).annotations;
  const m2 = matchImage(gts2, [det(1, A, [0, 0, 100, 90], 0.9)], 0.5);
  assert.deepEqual(
    m2.predictions.map((p) => [p.outcome, p.gt]),
    [['cls_error', 1]],
  );
  assert.deepEqual(m2.missed, [0, 1]);
});

test('greedy by score: the higher-scoring prediction takes the GT, whatever the file order', () => {
  const gts = dataset([1], [{ image: 1, cat: A, box: big(0) }]).annotations;
  const m = matchImage(gts, [det(1, A, big(10), 0.5), det(1, A, big(0), 0.9)], 0.5);
  assert.deepEqual(
    m.predictions.map((p) => [p.index, p.outcome]),
    [
      [1, 'tp'],
      [0, 'duplicate'],
    ],
  );
});

test('maxImages and topImages limit the analysis', () => {
  const { gt, dets } = scene();
  const a = analyzeErrors(gt, dets, { maxImages: 2, topImages: 1 });
  assert.equal(a.images, 2);
  assert.equal(a.totals.missed, 3); // image 3 is not analysed
  assert.equal(a.worstImages.length, 1);
  assert.throws(() => analyzeErrors(gt, dets, { iouThr: 0 }), /iouThr must be in \(0, 1\]/);
});

test('interpret states the localisation gap, the size gap, the dominant error and the most confused pair', () => {
  const { gt, dets } = scene();
  const a = analyzeErrors(gt, dets);
  const s = interpret({ map: 0.2, map_50: 0.5, map_75: 0.15, map_small: 0.05, map_medium: 0.2, map_large: 0.4 }, a);
  assert.equal(s.length, 4);
  assert.match(s[0], /mAP@\[\.5:\.95\] 0\.200 is under half of mAP50 0\.500, AP75 0\.150: .*localisation/);
  assert.match(
    s[1],
    /Small objects are the weak point: AP small 0\.050, medium 0\.200 vs large 0\.400\. 0% of missed objects are small\./,
  );
  assert.match(s[2], /most frequent error is missed \(4 of 9 errors, 44%, at IoU 0\.5 and score ≥ 0\.3\)/);
  assert.equal(s[3], 'Most confused pair: c2 predicted as c1, 1 time (100% of class errors).');
  assert.match(
    interpret({ map: 0.4, map_50: 0.5, map_small: 0.3, map_large: 0.32 })[0],
    /80% of mAP50 .*boxes are tight/,
  );
  assert.match(interpret({ map: 0.4, map_50: 0.5, map_small: 0.3, map_large: 0.32 })[1], /AP is similar across sizes/);
  assert.deepEqual(interpret(null), []);
  assert.deepEqual(interpret({ map: -1, map_50: -1 }), []);
});
