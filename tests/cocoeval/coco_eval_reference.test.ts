/**
 * Figures pinned against pycocotools itself. Provenance: cocodataset/cocoapi at 8c9bcc3,
 * PythonAPI/pycocotools/coco.py + cocoeval.py unmodified (np.float aliased to float for numpy ≥ 1.24), run
 * with numpy 2.4.6; its C `_mask.iou` (not buildable here) replaced by a line-for-line Python transcription of
 * common/maskApi.c `bbIou`. Each case was written to JSON from the generators below and evaluated with
 * `COCO(gt)`, `loadRes(dets)`, `COCOeval(.., 'bbox')`, evaluate, accumulate, summarize. Fingerprints are
 * `np.sum` of `eval['precision']`, `eval['recall']`, `eval['scores']` and the count of −1 in precision.
 * (With numpy 1.24 one stat of one case differed in the last bit: numpy 1.x sums in 8192-element blocks.)
 * If syntheticCase's generator changes, these cases change: regenerate the figures the same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticCase, SyntheticCaseOptions } from '../fixtures/synthetic_eval.js';
import { pairwiseSum } from '../../lib/cocoeval/summarize.js';
import { edgeCase, evaluate } from './fixtures.js';
import type { CocoDataset, CocoResult } from '../../lib/coco/types.js';

interface Pinned {
  stats: number[];
  precisionSum: number;
  minusOnes: number;
  recallSum: number;
  scoresSum: number;
  summary0?: string;
}

function check(c: { gt: CocoDataset; dets: CocoResult[] }, want: Pinned): void {
  const r = evaluate(c.gt, c.dets);
  assert.deepEqual(r.stats, want.stats); // exact, to the last bit
  assert.equal(pairwiseSum(r.arrays.precision), want.precisionSum);
  assert.equal(r.arrays.precision.filter((x) => x === -1).length, want.minusOnes);
  assert.equal(pairwiseSum(r.arrays.recall), want.recallSum);
  assert.equal(pairwiseSum(r.arrays.scores), want.scoresSum);
  if (want.summary0) assert.equal(r.summary[0], want.summary0);
}

const synth = (o: SyntheticCaseOptions) => syntheticCase(o);

test('pycocotools: hand-written edge case (crowd, ignore flag, area bounds, id 0, negative w, unknown class, ties, >100 dets)', () => {
  check(edgeCase(), {
    stats: [
      0.35546683700628123, 0.4584974626494907, 0.4584974626494907, 0.4256813584584265, 0.550990099009901,
      0.8999999999999999, 0.2, 0.4288888888888888, 0.6955555555555556, 0.7222222222222222, 0.65, 0.9,
    ],
    precisionSum: 1638.629032258064,
    minusOnes: 9090,
    recallSum: 43.39999999999999,
    scoresSum: 98.30000000000018,
    summary0: ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.355',
  });
});

test('pycocotools: 150 images × 25 detections, 12 classes, distinct scores', () => {
  check(synth({ images: 150, categories: 12, gtPerImage: 6, detsPerImage: 25, seed: 1, crowdFraction: 0.03 }), {
    stats: [
      0.15749220781714662, 0.39779949798496417, 0.10007750514103542, 0.18927426066278286, 0.155665411099296,
      0.17468459230190048, 0.20598925623044942, 0.33920483760356596, 0.33920483760356596, 0.33837403561517543,
      0.2603184910327767, 0.35360562408918905,
    ],
    precisionSum: -44176.71567778083,
    minusOnes: 57570,
    recallSum: -322.25332034366073,
    scoresSum: -38633.2578289402,
  });
});

test('pycocotools: 100 images × 40 detections, scores rounded to 0.1 (many ties), 20% crowd', () => {
  check(
    synth({
      images: 100,
      categories: 5,
      gtPerImage: 4,
      detsPerImage: 40,
      seed: 3,
      scoreDecimals: 1,
      crowdFraction: 0.2,
    }),
    {
      stats: [
        0.17134602762180903, 0.415923551001484, 0.10118355782695011, 0.22339917552729785, 0.2602009504768485,
        0.16106143571910134, 0.20996755548190954, 0.3428640184022959, 0.3428640184022959, 0.3635306553911205,
        0.3942574459404325, 0.30374999999999996,
      ],
      precisionSum: -3378.9118762759676,
      minusOnes: 12120,
      recallSum: 26.043616802212853,
      scoresSum: -927.5999999999995,
    },
  );
});

test('pycocotools: 60 images × 220 detections, 3 classes (maxDets 100 cuts per image and class), ties', () => {
  check(
    synth({
      images: 60,
      categories: 3,
      gtPerImage: 30,
      detsPerImage: 220,
      seed: 5,
      scoreDecimals: 1,
      crowdFraction: 0.1,
    }),
    {
      stats: [
        0.17228458575865144, 0.45389356562162114, 0.1000137754894011, 0.18966425246458013, 0.18172274772028077,
        0.16651384161429417, 0.044828771022759596, 0.2806300351662697, 0.34815992738729235, 0.33664624501661355,
        0.34303883543536406, 0.36616777425915237,
      ],
      precisionSum: 4277.533578864413,
      minusOnes: 0,
      recallSum: 81.00989741505563,
      scoresSum: 6293.5,
    },
  );
});
