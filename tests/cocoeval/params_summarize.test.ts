import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultEvalParams, linspace } from '../../lib/cocoeval/params.js';
import { formatFixedPy, meanValid, pairwiseSum, summaryLines } from '../../lib/cocoeval/summarize.js';

test('iouThrs are numpy linspace(.5, .95, 10) bit for bit (0.9 is 0.8999999999999999)', () => {
  // Values printed by numpy 2.4: repr(float(x)) for x in np.linspace(.5, .95, 10)
  assert.deepEqual(defaultEvalParams().iouThrs, [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95]);
  assert.notEqual(defaultEvalParams().iouThrs[8], 0.9);
  assert.equal(defaultEvalParams().iouThrs[5], 0.75); // summarize() finds AP75 by exact equality
});

test('recThrs are numpy linspace(0, 1, 101): ten values sit one ulp above i/100', () => {
  const r = defaultEvalParams().recThrs;
  assert.equal(r.length, 101);
  // numpy 2.4: [(k, x) for k, x in enumerate(np.linspace(0, 1, 101)) if x != k/100]
  const above: Record<number, number> = {
    35: 0.35000000000000003,
    41: 0.41000000000000003,
    47: 0.47000000000000003,
    57: 0.5700000000000001,
    69: 0.6900000000000001,
    70: 0.7000000000000001,
    82: 0.8200000000000001,
    83: 0.8300000000000001,
    94: 0.9400000000000001,
    95: 0.9500000000000001,
  };
  r.forEach((x, k) => assert.equal(x, above[k] ?? k / 100, `recThrs[${k}]`));
});

test('linspace: last value is stop exactly; num 1 and 0', () => {
  assert.deepEqual(linspace(0, 1, 1), [0]);
  assert.deepEqual(linspace(0, 1, 0), []);
  assert.equal(linspace(0.1, 0.7, 7)[6], 0.7);
});

test('pairwiseSum follows numpy: blocks of 8 accumulators, halves past 128', () => {
  // numpy 2.4: np.sum(np.array([0.1] * n)) for these n (plain left-to-right differs for n = 10 and 1000)
  assert.equal(pairwiseSum(new Array(10).fill(0.1)), 1.0);
  assert.equal(pairwiseSum(new Array(1000).fill(0.1)), 100.00000000000001);
  assert.equal(
    new Array(1000).fill(0.1).reduce((a, b) => a + b, 0),
    99.9999999999986,
  );
  assert.equal(pairwiseSum([1, 2, 3]), 6);
});

test('meanValid drops entries ≤ −1 and gives −1 when nothing is left', () => {
  assert.equal(meanValid([-1, 0.5, -1, 0]), 0.25);
  assert.equal(meanValid([-1, -1]), -1);
  assert.equal(meanValid([]), -1);
});

test('formatFixedPy rounds exact binary ties half to even, like Python format', () => {
  // Python: '{:0.3f}'.format(x)
  assert.equal(formatFixedPy(0.0625, 3), '0.062');
  assert.equal(formatFixedPy(0.1875, 3), '0.188');
  assert.equal(formatFixedPy(0.3125, 3), '0.312');
  assert.equal(formatFixedPy(-1, 3), '-1.000');
  assert.equal(formatFixedPy(0.5705, 3), '0.571'); // 0.5705 is not an exact tie in binary (it is above)
  assert.equal(formatFixedPy(0.125, 2), '0.12');
  assert.equal(formatFixedPy(0.95, 2), '0.95');
});

test('summary lines have pycocotools layout', () => {
  const p = { ...defaultEvalParams(), imgIds: [1], catIds: [1] };
  const lines = summaryLines([0.5, 0.75, 0.25, -1, 0.1, 0.2, 0.3, 0.4, 0.45, -1, 0.6, 0.7], p);
  assert.equal(lines[0], ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.500');
  assert.equal(lines[1], ' Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.750');
  assert.equal(lines[3], ' Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000');
  assert.equal(lines[6], ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.300');
  assert.equal(lines[11], ' Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.700');
});
