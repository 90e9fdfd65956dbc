/** One case per pycocotools rule (cocoeval.py evaluateImg / accumulate, coco.py loadRes, maskApi.c bbIou). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataset, det, evaluate, big, precisionAt, recallAt, ONE } from './fixtures.js';
import type { CocoResult } from '../../lib/coco/types.js';

const A_ALL = 0,
  A_SMALL = 1;
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
const T50 = 0,
  T55 = 1,
  T65 = 3,
  T85 = 7;

test('crowd: IoU = intersection / area(det), matched by several detections, which are ignored', () => {
  // Regular GT at big(0); crowd region [300,0,300,300]. Two 50×50 detections inside the crowd (crowd IoU 1,
  // ordinary IoU 0.03) are ignored, not FPs. A 100×100 detection half inside the crowd (IoU 0.5) scores highest:
  // ignored at threshold .50, a FP from .55 on (it then ranks above the TP: precision 1/2 at recall 1).
  const gt = dataset(
    [1],
    [
      { image: 1, cat: 1, box: big(0) },
      { image: 1, cat: 1, box: [300, 0, 300, 300], crowd: true },
    ],
  );
  const dets = [
    det(1, 1, [550, 0, 100, 100], 0.95),
    det(1, 1, big(0), 0.9),
    det(1, 1, [320, 10, 50, 50], 0.8),
    det(1, 1, [400, 10, 50, 50], 0.7),
  ];
  const r = evaluate(gt, dets);
  assert.equal(precisionAt(r, T50, 100, 0, A_ALL, 2), ONE);
  assert.equal(precisionAt(r, T55, 100, 0, A_ALL, 2), 0.5);
  assert.equal(recallAt(r, T50, 0, A_ALL, 2), 1); // the crowd is not a GT to find
  assert.equal(r.perCategory[0].numCrowd, 1);
});

test('a GT "ignore" flag is overwritten from iscrowd (so a not-crowd GT with ignore=1 still counts)', () => {
  const gt = dataset(
    [1],
    [
      { image: 1, cat: 1, box: big(0) },
      { image: 1, cat: 1, box: big(300), extra: { ignore: 1 } },
    ],
  );
  const r = evaluate(gt, [det(1, 1, big(0), 0.9)]);
  assert.equal(r.statsByName.mar_100, 0.5);
  assert.ok(r.warnings.some((w) => w.includes("overwrites 'ignore'")));
});

test('GT area ranges use the annotation area field, not w·h', () => {
  // 40×40 box (w·h 1600: medium) with area 900 (small). Exact detection.
  const r = evaluate(dataset([1], [{ image: 1, cat: 1, box: [0, 0, 40, 40], area: 900 }]), [
    det(1, 1, [0, 0, 40, 40], 0.9),
  ]);
  assert.equal(r.statsByName.mar_small, 1);
  assert.equal(r.statsByName.map_medium, -1); // outside medium: GT ignored, its detection ignored
  assert.equal(r.statsByName.mar_medium, -1);
});

test('area ranges are inclusive at both ends: 1024 is small and medium, 9216 medium and large', () => {
  const gt = dataset(
    [1],
    [
      { image: 1, cat: 1, box: [0, 0, 32, 32] }, // 1024
      { image: 1, cat: 1, box: [100, 0, 96, 96] }, // 9216
      { image: 1, cat: 1, box: [300, 0, 32, 32], area: 1025 }, // just medium, never detected
    ],
  );
  const r = evaluate(gt, [det(1, 1, [0, 0, 32, 32], 0.9), det(1, 1, [100, 0, 96, 96], 0.8)]);
  assert.equal(r.statsByName.mar_small, 1); // only the 1024 GT is small
  close(r.statsByName.mar_medium, 2 / 3); // all three are medium
  assert.equal(r.statsByName.mar_large, 1); // only 9216 is large
  assert.equal(precisionAt(r, T50, 100, 0, A_SMALL, 2), ONE); // the 9216 detection is ignored for small
});

test('unmatched detections outside the range are ignored; a matched one stays a TP whatever its size', () => {
  // Small GT 30×30; detection 33×33 over it (IoU 900/1089 = 0.83; area 1089, outside small) and a
  // higher-scoring far 100×100 detection (unmatched).
  const gt = dataset([1], [{ image: 1, cat: 1, box: [0, 0, 30, 30] }]);
  const r = evaluate(gt, [det(1, 1, big(500), 0.95), det(1, 1, [0, 0, 33, 33], 0.9)]);
  assert.equal(precisionAt(r, T50, 100, 0, A_SMALL, 2), ONE); // far detection ignored for small
  assert.equal(precisionAt(r, T50, 100, 0, A_ALL, 2), 0.5); // but a FP for all
  assert.equal(recallAt(r, T85, 0, A_SMALL, 2), 0); // IoU .83 < .85: unmatched, outside → ignored
  assert.equal(precisionAt(r, T85, 0, 0, A_SMALL, 2), 0);
});

test('a detection with a negative width has negative area: ignored, not a FP', () => {
  const gt = dataset([1], [{ image: 1, cat: 1, box: big(0) }]);
  const r = evaluate(gt, [det(1, 1, [300, 0, -50, 50], 0.95), det(1, 1, big(0), 0.9)]);
  assert.equal(precisionAt(r, T50, 100, 0, A_ALL, 2), ONE);
  assert.ok(r.warnings.some((w) => w.includes('negative width')));
});

test('maxDets truncates per image AND category', () => {
  // One GT of each of two classes in one image, both found: AR@1 is 1 (each (image, class) keeps its best).
  const gt = dataset(
    [1],
    [
      { image: 1, cat: 1, box: big(0) },
      { image: 1, cat: 2, box: big(200) },
    ],
    [1, 2],
  );
  const r = evaluate(gt, [det(1, 1, big(0), 0.9), det(1, 2, big(200), 0.8)]);
  assert.equal(r.statsByName.mar_1, 1);
  // Three GT of one class, three TPs: AR@1 = 1/3, AR@10 = 1.
  const gt3 = dataset(
    [1],
    [0, 200, 400].map((x) => ({ image: 1, cat: 1, box: big(x) })),
  );
  const r3 = evaluate(
    gt3,
    [0, 200, 400].map((x, i) => det(1, 1, big(x), 0.9 - i / 10)),
  );
  close(r3.statsByName.mar_1, 1 / 3);
  assert.equal(r3.statsByName.mar_10, 1);
});

test('detections past maxDets[-1] (100) are cut before matching', () => {
  const gt = dataset([1], [{ image: 1, cat: 1, box: big(0) }]);
  const fps = Array.from({ length: 100 }, (_, i): CocoResult => det(1, 1, big(200 + i, 500), 0.5 + i / 1000));
  assert.equal(evaluate(gt, [...fps, det(1, 1, big(0), 0.4)]).statsByName.mar_100, 0); // TP is 101st
  assert.equal(evaluate(gt, [...fps.slice(1), det(1, 1, big(0), 0.4)]).statsByName.mar_100, 1); // TP is 100th
});

test('GT are scanned ignored-last and the scan stops at the first ignored GT once a regular one is held', () => {
  // Crowd GT first in the file, same box as a regular GT. Detection 100×60: IoU 0.6 with the regular GT,
  // crowd IoU 1. At .50 it takes the regular GT (scanned first) and stops before the crowd → TP.
  // At .65 the regular GT is too far, so it lands on the crowd → ignored, and the regular GT is missed.
  const gt = dataset(
    [1],
    [
      { image: 1, cat: 1, box: big(0), crowd: true },
      { image: 1, cat: 1, box: big(0) },
    ],
  );
  const r = evaluate(gt, [det(1, 1, [0, 0, 100, 60], 0.9)]);
  assert.equal(recallAt(r, T50, 0, A_ALL, 2), 1);
  assert.equal(recallAt(r, T65, 0, A_ALL, 2), 0);
  assert.equal(precisionAt(r, T65, 0, 0, A_ALL, 2), 0);
});

test('equal IoU with two GT: the later GT in the scan wins', () => {
  // g1 [0,0,10,10], g2 [4,0,10,10]; d1 [2,0,10,10] has IoU 2/3 with both and takes g2; d2 [6,0,10,10]
  // overlaps only g2 (g1: 0.25) and finds it taken → FP. Recall 1/2 (it would be 1 had d1 taken g1).
  const gt = dataset(
    [1],
    [
      { image: 1, cat: 1, box: [0, 0, 10, 10] },
      { image: 1, cat: 1, box: [4, 0, 10, 10] },
    ],
  );
  const r = evaluate(gt, [det(1, 1, [2, 0, 10, 10], 0.9), det(1, 1, [6, 0, 10, 10], 0.8)]);
  assert.equal(recallAt(r, T50, 0, A_ALL, 2), 0.5);
});

test('GT id 0 is "no match" as in pycocotools: its perfect detection is a FP and it stays missed', () => {
  const gt = dataset(
    [1],
    [
      { image: 1, cat: 1, box: big(0), id: 0 },
      { image: 1, cat: 1, box: big(200), id: 5 },
    ],
  );
  const r = evaluate(gt, [det(1, 1, big(0), 0.9), det(1, 1, big(200), 0.8)]);
  assert.equal(r.statsByName.mar_100, 0.5);
  assert.equal(precisionAt(r, T50, 50, 0, A_ALL, 2), 0.5); // FP then TP
  assert.ok(r.warnings.some((w) => w.includes('id 0')));
});

test('params: catIds / imgIds restrict the evaluation like Params.catIds / imgIds', () => {
  const gt = dataset(
    [1, 2],
    [
      { image: 1, cat: 1, box: big(0) },
      { image: 2, cat: 2, box: big(0) },
    ],
    [1, 2],
  );
  const dets = [det(1, 1, big(0), 0.9), det(2, 2, big(300), 0.9)];
  close(evaluate(gt, dets, { catIds: [1] }).statsByName.map, 1);
  assert.equal(evaluate(gt, dets, { imgIds: [2] }).statsByName.map, 0);
  assert.deepEqual(evaluate(gt, dets, { catIds: [2, 1, 2] }).params.catIds, [1, 2]);
});
