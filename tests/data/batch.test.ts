import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collate, toCxcywhNorm } from '../../lib/data/batch.js';

const solid = (w: number, h: number, rgb: number[]) => {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set(rgb, i * 3);
  return { data, width: w, height: h };
};

test('collate: normalised pixels (hand-computed), zero padding bottom/right, mask, boxes on the unpadded size', () => {
  const a = {
    imageId: 7,
    image: solid(3, 2, [255, 0, 128]),
    targets: { boxesXyxy: [[0, 0, 3, 2]] as [number, number, number, number][], labels: [2], areas: [6] },
    origSize: [20, 30] as [number, number],
  };
  const b = {
    imageId: 9,
    image: solid(2, 3, [10, 20, 30]),
    targets: { boxesXyxy: [[1, 1, 2, 3]] as [number, number, number, number][], labels: [0], areas: [2] },
    origSize: [3, 2] as [number, number],
  };
  const batch = collate([a, b]);
  assert.deepEqual(batch.shape, [2, 3, 3]);
  assert.equal(batch.pixels.length, 2 * 3 * 3 * 3);
  const px = (n: number, y: number, x: number) => [
    ...batch.pixels.subarray(((n * 3 + y) * 3 + x) * 3, ((n * 3 + y) * 3 + x) * 3 + 3),
  ];
  // (255/255 − 0.485)/0.229, (0 − 0.456)/0.224, (128/255 − 0.406)/0.225
  const expectA = [2.2489082969, -2.0357142857, 0.426492366];
  const expectB = [(10 / 255 - 0.485) / 0.229, (20 / 255 - 0.456) / 0.224, (30 / 255 - 0.406) / 0.225];
  px(0, 1, 2).forEach((v, c) => assert.ok(Math.abs(v - expectA[c]) < 1e-6, `A[${c}] ${v}`));
  px(1, 2, 1).forEach((v, c) => assert.ok(Math.abs(v - expectB[c]) < 1e-6, `B[${c}] ${v}`));
  assert.deepEqual(px(0, 2, 0), [0, 0, 0]); // image a is 2 rows high: row 2 is padding
  assert.deepEqual(px(1, 0, 2), [0, 0, 0]); // image b is 2 wide: column 2 is padding
  assert.deepEqual([...batch.mask], [1, 1, 1, 1, 1, 1, 0, 0, 0, /* b */ 1, 1, 0, 1, 1, 0, 1, 1, 0]);
  assert.deepEqual(batch.targets[0].boxesCxcywh, [[0.5, 0.5, 1, 1]]);
  assert.deepEqual(batch.targets[1].boxesCxcywh, [[0.75, 2 / 3, 0.5, 2 / 3]]);
  assert.deepEqual(
    batch.targets.map((t) => [t.size, t.origSize, t.labels]),
    [
      [[2, 3], [20, 30], [2]],
      [[3, 2], [3, 2], [0]],
    ],
  );
  assert.deepEqual(batch.imageIds, [7, 9]);
  assert.deepEqual(toCxcywhNorm([10, 20, 30, 60], 100, 200), [0.2, 0.2, 0.2, 0.2]);
});
