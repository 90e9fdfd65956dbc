import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CocoDataset, CocoResult, BoxXywhAbs } from '../../lib/coco/types.js';
import { confidenceCurves, classMatches } from '../../lib/eval/confidence_curves.js';
import { confusionMatrix } from '../../lib/eval/confusion_matrix.js';
import { labelsOverview } from '../../lib/eval/labels_overview.js';
import { resultsTable, resultsCsv } from '../../lib/viz/results_figure.js';
import type { LogRow } from '../../lib/io/run_dir.js';

let nextId = 1;
const ann = (image_id: number, category_id: number, bbox: BoxXywhAbs, iscrowd: 0 | 1 = 0) => ({
  id: nextId++,
  image_id,
  category_id,
  bbox,
  area: bbox[2] * bbox[3],
  iscrowd,
});
const det = (image_id: number, category_id: number, bbox: BoxXywhAbs, score: number): CocoResult => ({
  image_id,
  category_id,
  bbox,
  score,
});
const ds = (annotations: ReturnType<typeof ann>[]): CocoDataset => ({
  images: [
    { id: 1, width: 100, height: 100, file_name: 'a.jpg' },
    { id: 2, width: 100, height: 100, file_name: 'b.jpg' },
  ] as CocoDataset['images'],
  categories: [
    { id: 1, name: 'cat' },
    { id: 2, name: 'dog' },
  ] as CocoDataset['categories'],
  annotations,
});

// Image 1: two cats; image 2: one dog and a cat crowd region.
const GT = ds([
  ann(1, 1, [0, 0, 10, 10]),
  ann(1, 1, [50, 50, 10, 10]),
  ann(2, 2, [0, 0, 20, 20]),
  ann(2, 1, [60, 60, 40, 40], 1),
]);
const DETS = [
  det(1, 1, [0, 0, 10, 10], 0.9), // TP cat (IoU 1)
  det(1, 1, [0, 0, 10, 10], 0.8), // duplicate of the same cat → FP
  det(1, 1, [52, 52, 10, 10], 0.4), // second cat: IoU 64/136 = 0.47 < 0.5 → FP, the cat is missed
  det(2, 2, [0, 0, 20, 10], 0.7), // dog at IoU 0.5 → TP (≥ 0.5, as pycocotools)
  det(2, 1, [60, 60, 20, 20], 0.6), // cat inside the cat crowd region → ignored
  det(2, 1, [0, 0, 20, 20], 0.3), // cat on the dog → FP for cat
];

test('matches by class, pycocotools-style: TP / FP scores and non-crowd GT counts', () => {
  const m = classMatches(GT, DETS, 0.5);
  assert.deepEqual(m.get(1), { tp: [0.9], fp: [0.8, 0.4, 0.3], numGt: 2 });
  assert.deepEqual(m.get(2), { tp: [0.7], fp: [], numGt: 1 });
});

test('P / R / F1 vs threshold on a hand-made case, and the F1-optimal threshold', () => {
  const c = confidenceCurves(GT, DETS, 0.5);
  const at = (t: number) => Math.round(t * 100);
  const cat = c.classes[0],
    dog = c.classes[1];
  // cat at t = 0.3: TP 1, FP 3 → P 1/4, R 1/2, F1 = 2·(1/4)(1/2)/(3/4) = 1/3
  assert.ok(Math.abs(cat.precision[at(0.3)] - 0.25) < 1e-12);
  assert.ok(Math.abs(cat.recall[at(0.3)] - 0.5) < 1e-12);
  assert.ok(Math.abs(cat.f1[at(0.3)] - 1 / 3) < 1e-12);
  // cat at t = 0.85: TP 1, FP 0 → P 1, R 1/2, F1 2/3; above 0.9 nothing: P 1, R 0, F1 0
  assert.ok(Math.abs(cat.f1[at(0.85)] - 2 / 3) < 1e-12);
  assert.deepEqual([cat.precision[at(0.95)], cat.recall[at(0.95)], cat.f1[at(0.95)]], [1, 0, 0]);
  // dog: P 1, R 1 up to 0.7
  assert.deepEqual([dog.precision[at(0.7)], dog.recall[at(0.7)], dog.f1[at(0.7)]], [1, 1, 1]);
  // cat F1 by threshold: ≤.3 → 1/3, (.3,.4] → 0.4, (.4,.8] → 1/2 (TP .9, FP .8), (.8,.9] → 2/3; dog: 1 up to .7, then 0.
  // Mean: 2/3, 0.7, 0.75 on (.4,.7], 0.25, 1/3 → the best is 0.75, first reached at threshold 0.41.
  assert.ok(Math.abs(cat.f1[at(0.5)] - 0.5) < 1e-12);
  assert.equal(c.best.threshold, 0.41);
  assert.ok(Math.abs(c.best.f1 - 0.75) < 1e-12);
});

test('a class never predicted has precision 0 and recall 0 at every threshold', () => {
  const c = confidenceCurves(
    GT,
    DETS.filter((d) => d.category_id === 1),
    0.5,
  );
  assert.ok(c.classes[1].precision.every((p) => p === 0) && c.classes[1].recall.every((r) => r === 0));
});

test('confusion matrix with background (Ultralytics pairing: by IoU, each box once; crowd ignored)', () => {
  const m = confusionMatrix(GT, DETS, 0.45, 0.35);
  assert.deepEqual(m.labels, ['cat', 'dog', 'background']);
  // Pairs with IoU > 0.45 among score ≥ 0.35: cat1↔0.9 (1.0; 0.8 also 1.0 → the first in order wins), cat2↔0.4 (0.47),
  // dog↔0.7 (0.5). The 0.8 duplicate is a background FP; the crowd detection is ignored; 0.3 is below the threshold.
  assert.deepEqual(m.counts, [
    [2, 0, 0],
    [0, 1, 0],
    [1, 0, 0],
  ]);
  assert.deepEqual(m.normalized[0], [1, 0, 0]);
  const strict = confusionMatrix(GT, DETS, 0.5, 0.0);
  // IoU > 0.5 (strict, as Ultralytics): the dog box at exactly 0.5 no longer pairs; the 0.3 cat box pairs with the dog (IoU 1).
  assert.deepEqual(strict.counts, [
    [1, 0, 1],
    [1, 0, 0],
    [2, 1, 0],
  ]);
  assert.deepEqual(
    strict.normalized[2].map((v) => Math.round(v * 1000) / 1000),
    [0.667, 0.333, 0],
  );
});

test('labels overview: counts, relative size, aspect and centre bins by hand', () => {
  const o = labelsOverview(GT);
  assert.equal(o.boxes, 3); // the crowd region is left out
  assert.deepEqual(o.classCounts, [
    { class: 'cat', instances: 2, images: 1 },
    { class: 'dog', instances: 1, images: 1 },
  ]);
  // sqrt(100/10000) = 0.1 → bin 2 of 20 (twice), sqrt(400/10000) = 0.2 → bin 4
  assert.deepEqual(o.relativeSize.map((b) => b.count).slice(0, 5), [0, 0, 2, 0, 1]);
  assert.equal(o.log2Aspect[8].count, 3); // log2(1) = 0 → the bin [0, 0.5)
  const centres = Object.fromEntries(o.centres.filter((c) => c.count).map((c) => [`${c.x},${c.y}`, c.count]));
  assert.deepEqual(centres, { '0,0': 1, '5,5': 1, '1,1': 1 }); // (5,5), (55,55), (10,10) in a 100-px image
});

test('results table: epoch 0 is the validation before training; train terms are epoch means', () => {
  const log: LogRow[] = [
    { split: 'val', step: 0, epoch: -1, before_training: true, map: 0.1, map_50: 0.2 },
    { split: 'train', step: 1, epoch: 0, loss_total: 4, loss_ce: 1 },
    { split: 'train', step: 2, epoch: 0, loss_total: 2, loss_ce: 3 },
    { split: 'val', step: 2, epoch: 0, map: 0.3, map_50: 0.5, loss_total: 5 },
  ];
  const t = resultsTable(log);
  assert.deepEqual(t[0], { epoch: 0, step: 0, mAP: 0.1, mAP50: 0.2 });
  assert.deepEqual(t[1], {
    epoch: 1,
    step: 2,
    'train/loss_total': 3,
    'train/loss_ce': 2,
    'val/loss_total': 5,
    mAP: 0.3,
    mAP50: 0.5,
  });
  assert.equal(resultsCsv(t).split('\n')[2], '1,2,3,2,,,5,,,,0.3,0.5');
});

test("default score threshold: given ≥ 0 wins; else the run's F1-optimal one; else 0.3", async () => {
  const fs = await import('node:fs'),
    os = await import('node:os'),
    path = await import('node:path');
  const { defaultScoreThr, diagnosticsFile } = await import('../../lib/eval/diagnostics.js');
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-diag-'));
  assert.equal(defaultScoreThr(run, 'val', 0.5).scoreThr, 0.5);
  assert.equal(defaultScoreThr(run, 'val', -1).scoreThr, 0.3);
  fs.mkdirSync(path.join(run, 'metrics'));
  fs.writeFileSync(diagnosticsFile(run, 'val'), JSON.stringify({ bestScoreThr: 0.41 }));
  assert.equal(defaultScoreThr(run, 'val', -1).scoreThr, 0.41);
  assert.equal(defaultScoreThr(run, 'val', 0).scoreThr, 0);
});
