import { test } from 'node:test';
import assert from 'node:assert/strict';
import { epochSamples, interleave, realOrder, toBatches } from '../../lib/classify/sample_order.js';

const real = Array.from({ length: 20 }, (_, i) => `r${i}`);
const synth = Array.from({ length: 7 }, (_, i) => `s${i}`);

test('removing the synthetic samples gives back exactly the real order, every epoch and seed', () => {
  for (const seed of [0, 1, 7]) {
    for (let epoch = 0; epoch < 4; epoch++) {
      const without = epochSamples(real, [], seed, epoch);
      const merged = epochSamples(real, synth, seed, epoch);
      assert.deepEqual(
        merged.filter((x) => x.startsWith('r')),
        without,
      );
      assert.deepEqual([...merged].sort(), [...real, ...synth].sort()); // every sample exactly once
    }
  }
});

test('the real order is a fresh permutation each epoch, fixed by (seed, epoch)', () => {
  const a = realOrder(20, 0, 0),
    b = realOrder(20, 0, 1);
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.notDeepEqual(a, b);
  assert.deepEqual(realOrder(20, 0, 0), a);
});

test('the synthetic sample lands in each of the n+1 slots about equally often', () => {
  const counts = [0, 0, 0];
  for (let seed = 0; seed < 3000; seed++) counts[interleave(['a', 'b'], ['s'], seed, 0).indexOf('s')]++;
  for (const c of counts) assert.ok(c > 900 && c < 1100, `${counts}`);
});

test('batches: consecutive, the last one shorter', () => {
  assert.deepEqual(toBatches([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(toBatches([], 3), []);
});
