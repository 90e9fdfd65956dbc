import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classMetrics, confusionMatrix, meanStd } from '../../lib/classify/class_metrics.js';

test('sklearn balanced_accuracy_score example: y_true [0,1,0,0,1,0], y_pred [0,1,0,0,0,1] → 0.625', () => {
  const m = classMetrics([0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1], ['a', 'b'], ['b']);
  assert.deepEqual(m.confusion, [
    [3, 1],
    [1, 1],
  ]);
  assert.equal(m.balancedAccuracy, 0.625); // (3/4 + 1/2) / 2
  assert.equal(m.accuracy, 4 / 6);
  assert.deepEqual(m.perClass, { a: 0.75, b: 0.5 });
  assert.equal(m.rareAccuracy, 0.5);
});

test('classes without val samples are left out of balanced accuracy and reported as null', () => {
  // true: a a b b b, pred: a c b b a ; class c has no true samples
  const m = classMetrics([0, 0, 1, 1, 1], [0, 2, 1, 1, 0], ['a', 'b', 'c'], ['b', 'c']);
  assert.deepEqual(m.perClass, { a: 0.5, b: 2 / 3, c: null });
  assert.ok(Math.abs(m.balancedAccuracy - (0.5 + 2 / 3) / 2) < 1e-12);
  assert.equal(m.rareAccuracy, 2 / 3); // pooled over b's three samples
  assert.deepEqual(m.support, { a: 2, b: 3, c: 0 });
  assert.equal(classMetrics([0], [0], ['a', 'b'], ['b']).rareAccuracy, null);
});

test('confusion matrix rejects labels out of range and length mismatches', () => {
  assert.throws(() => confusionMatrix([0, 3], [0, 0], 3), /outside/);
  assert.throws(() => confusionMatrix([0], [0, 1], 3), /predictions/);
});

test('mean ± sample std (ddof = 1)', () => {
  assert.deepEqual(meanStd([0.5]), { mean: 0.5, std: 0, n: 1 });
  const r = meanStd([1, 2, 3, 4]);
  assert.equal(r.mean, 2.5);
  assert.ok(Math.abs(r.std - Math.sqrt(5 / 3)) < 1e-12); // Σ(x−2.5)² = 5, / 3
});
