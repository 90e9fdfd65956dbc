/** The synthetic-image quality figures on hand-made cases with hand-computed answers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { edgeIoU, kid, recognisability } from '../../lib/synth/quality_metrics.js';
import { Rng } from '../../lib/engine/rng.js';

test('edgeIoU: identical maps 1, disjoint 0, partial overlap |A∧B|/|A∨B|, two empty maps 1, any nonzero value is an edge', () => {
  const a = Uint8Array.from([255, 255, 0, 0, 255, 0]);
  assert.equal(edgeIoU(a, a), 1);
  assert.equal(edgeIoU(a, Uint8Array.from([0, 0, 255, 255, 0, 255])), 0);
  assert.equal(edgeIoU(a, Uint8Array.from([255, 0, 0, 0, 1, 255])), 2 / 4); // ∧ = {0,4}, ∨ = {0,1,4,5}
  assert.equal(edgeIoU(new Uint8Array(4), new Uint8Array(4)), 1);
  assert.throws(() => edgeIoU(a, new Uint8Array(3)));
});

test('recognisability: the fraction is per prompted class; overall pools the images', () => {
  const r = recognisability(['cat', 'cat', 'cat', 'dog'], ['cat', 'cat', 'cat', 'cat']);
  assert.deepEqual(r.perClass.cat, { images: 3, recognised: 3, fraction: 1 });
  assert.deepEqual(r.perClass.dog, { images: 1, recognised: 0, fraction: 0 });
  assert.equal(r.overall, 0.75); // not (1 + 0) / 2
  assert.equal(r.images, 4);
});

test('kid: hand-computed two-point case; ≈0 for two samples of one distribution, clearly > 0 for shifted ones', () => {
  // x = y = {1, 0}, d = 1: k(1,0) = k(0,0) = 1, k(1,1) = 8 → Kxx = Kyy = 2/2 = 1, Kxy = 11/4 → 1 + 1 − 2·2.75 = −3.5
  assert.equal(kid(Float32Array.of(1, 0), 2, Float32Array.of(1, 0), 2, 1), -3.5);
  const rng = new Rng(4),
    d = 8,
    n = 300;
  const a = rng.normals(n * d),
    b = rng.normals(n * d),
    c = rng.normals(n * d, 1, 1.5);
  assert.ok(Math.abs(kid(a, n, b, n, d)) < 0.05, `same distribution: ${kid(a, n, b, n, d)}`);
  assert.ok(kid(a, n, c, n, d) > 1, `shifted: ${kid(a, n, c, n, d)}`);
  assert.throws(() => kid(a, 1, b, n, d));
});
