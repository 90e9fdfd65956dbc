import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crop, getSizeWithAspectRatio, hflip, pyRound, resize, flipRgb, cropRgb } from '../../lib/data/geometry.js';
import { RgbImage, Sample } from '../../lib/data/types.js';

const img = (w: number, h: number, f: (x: number, y: number, c: number) => number): RgbImage => {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  return { data, width: w, height: h };
};

test('pyRound rounds halves to even like Python 3', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, 666.5, 667.5, 2.4999, 2.5001].map(pyRound), [0, 2, 2, 4, 666, 668, 2, 3]);
});

test('getSizeWithAspectRatio matches DETR on hand-computed cases', () => {
  assert.deepEqual(getSizeWithAspectRatio(640, 480, 800, 1333), [800, 1066]); // 640·800/480 = 1066.67 → 1066
  assert.deepEqual(getSizeWithAspectRatio(480, 640, 800, 1333), [1066, 800]);
  assert.deepEqual(getSizeWithAspectRatio(2000, 500, 800, 1333), [333, 1332]); // cap: round(1333·500/2000 = 333.25) = 333
  assert.deepEqual(getSizeWithAspectRatio(2, 1, 800, 1333), [666, 1332]); // round(666.5) = 666 (even)
  assert.deepEqual(getSizeWithAspectRatio(2, 1, 800, 1335), [668, 1336]); // round(667.5) = 668 (even)
  assert.deepEqual(getSizeWithAspectRatio(800, 1200, 800, 1333), [1200, 800]); // already at size: unchanged
  assert.deepEqual(getSizeWithAspectRatio(160, 120, 128, 213), [128, 170]); // demo: 160·128/120 = 170.67
  assert.deepEqual(getSizeWithAspectRatio(500, 333, 400), [400, 600]); // no cap: 500·400/333 = 600.6
});

test('hflip: hand-computed box, and flipping twice is the identity', () => {
  const s: Sample = {
    image: img(10, 4, (x, y, c) => x * 20 + y * 3 + c),
    targets: { boxesXyxy: [[1, 2, 4, 3.5]], labels: [3], areas: [4.5] },
  };
  const f = hflip(s);
  assert.deepEqual(f.targets.boxesXyxy, [[6, 2, 9, 3.5]]);
  assert.deepEqual([...f.image.data.subarray(0, 3)], [9 * 20, 9 * 20 + 1, 9 * 20 + 2]);
  const ff = hflip(f);
  assert.deepEqual(ff.targets, s.targets);
  assert.deepEqual(ff.image, s.image);
  assert.deepEqual(flipRgb(flipRgb(s.image)), s.image);
});

test('crop: boxes shift, clip, drop when empty; areas recomputed (DETR crop)', () => {
  const s: Sample = {
    image: img(20, 10, (x, y) => x + 20 * y),
    targets: {
      boxesXyxy: [
        [2, 1, 8, 6],
        [15, 0, 19, 3],
        [0, 0, 1, 1],
      ],
      labels: [0, 1, 2],
      areas: [99, 99, 99],
    },
  };
  const c = crop(s, 2, 3, 6, 10); // rows 2..7, cols 3..12
  // box 1 → [−1, −1, 5, 4] → clipped [0, 0, 5, 4]; box 2 → [10, 0, 10, 1] (no width); box 3 → [0, 0, 0, 0]
  assert.deepEqual(c.targets.boxesXyxy, [[0, 0, 5, 4]]);
  assert.deepEqual(c.targets.labels, [0]);
  assert.deepEqual(c.targets.areas, [20]);
  assert.equal(c.image.data[0], 3 + 20 * 2); // pixel (x=3, y=2) of the source
  assert.deepEqual(cropRgb(s.image, 0, 0, 10, 20), s.image);
  const edge = crop(s, 0, 10, 5, 8); // cols 10..17: box 2 becomes [5, 0, 8, 3]
  assert.deepEqual(edge.targets.boxesXyxy, [[5, 0, 8, 3]]);
  assert.deepEqual(edge.targets.areas, [9]);
});

test('resize: sizes, boxes and areas scale by the width/height ratios; a flat image stays flat', async () => {
  const s: Sample = {
    image: img(40, 20, (_x, _y, c) => [200, 100, 50][c]),
    targets: { boxesXyxy: [[4, 2, 10, 6]], labels: [1], areas: [24] },
  };
  const r = await resize(s, 10);
  assert.deepEqual([r.image.width, r.image.height], [20, 10]);
  assert.deepEqual(r.targets.boxesXyxy, [[2, 1, 5, 3]]);
  assert.deepEqual(r.targets.areas, [6]);
  for (let i = 0; i < r.image.data.length; i += 3)
    assert.deepEqual([...r.image.data.subarray(i, i + 3)], [200, 100, 50]);
  const up = await resize(s, 30, 45); // 40/20·30 = 60 > 45 → size round(45·20/40 = 22.5) = 22 → [22, 44]
  assert.deepEqual([up.image.height, up.image.width], [22, 44]);
  assert.deepEqual(
    up.targets.boxesXyxy[0].map((v) => +v.toFixed(6)),
    [4.4, 2.2, 11, 6.6],
  );
});
