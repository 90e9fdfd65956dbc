import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEMO_AUGMENT,
  DEMO_FLIP_AUGMENT,
  DETR_AUGMENT,
  randomSizeCropRegion,
  trainTransform,
  valTransform,
  AugmentConfig,
} from '../../lib/data/augment.js';
import { hflip } from '../../lib/data/geometry.js';
import { Rng } from '../../lib/engine/rng.js';
import { Box } from '../../lib/box/box_ops.js';
import { Sample } from '../../lib/data/types.js';

function randomSample(rng: Rng, w: number, h: number, n: number): Sample {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(0, 255);
  const boxes: Box[] = [];
  for (let i = 0; i < n; i++) {
    const x0 = rng.uniform(0, w - 2),
      y0 = rng.uniform(0, h - 2);
    boxes.push([x0, y0, rng.uniform(x0 + 1, w), rng.uniform(y0 + 1, h)]);
  }
  return {
    image: { data, width: w, height: h },
    targets: {
      boxesXyxy: boxes,
      labels: boxes.map((_, i) => i % 7),
      areas: boxes.map((b) => (b[2] - b[0]) * (b[3] - b[1])),
    },
  };
}

test('train transform: boxes stay inside the image with positive size; sizes follow the recipe', async () => {
  for (let seed = 0; seed < 60; seed++) {
    const rng = new Rng(seed);
    const [w, h] = rng.pick([
      [160, 128],
      [128, 160],
      [128, 128],
      [144, 112],
    ]);
    const s = randomSample(rng, w, h, rng.int(0, 6));
    const out = await trainTransform(s, DEMO_AUGMENT, new Rng(1000 + seed));
    const { width: W, height: H } = out.image;
    assert.equal(out.image.data.length, W * H * 3);
    assert.ok(DEMO_AUGMENT.scales.includes(Math.min(W, H)) || Math.max(W, H) <= DEMO_AUGMENT.maxSize, `${W}x${H}`);
    assert.ok(Math.max(W, H) <= DEMO_AUGMENT.maxSize + 1);
    assert.equal(out.targets.boxesXyxy.length, out.targets.labels.length);
    assert.ok(out.targets.boxesXyxy.length <= s.targets.boxesXyxy.length);
    for (const [x0, y0, x1, y1] of out.targets.boxesXyxy) {
      assert.ok(
        x0 >= 0 && y0 >= 0 && x1 <= W + 1e-9 && y1 <= H + 1e-9 && x1 > x0 && y1 > y0,
        `seed ${seed}: [${x0}, ${y0}, ${x1}, ${y1}] in ${W}x${H}`,
      );
    }
  }
});

test('flip only (p=1, plain resize to the same size) equals hflip; flipping twice is the identity', async () => {
  const s = randomSample(new Rng(3), 128, 96, 4);
  const flipOnly: AugmentConfig = { ...DEMO_AUGMENT, flipProb: 1, selectProb: 1, scales: [96], maxSize: 1000 };
  const once = await trainTransform(s, flipOnly, new Rng(1));
  assert.deepEqual(once, hflip(s));
  const twice = await trainTransform(once, flipOnly, new Rng(2));
  assert.deepEqual(twice, s);
});

test('demo-flip: every train image is the val resize of the image or of its mirror, each about half the time', async () => {
  let flipped = 0;
  const n = 200;
  for (let seed = 0; seed < n; seed++) {
    const rng = new Rng(seed);
    const s = randomSample(rng, rng.pick([160, 144, 128]), rng.pick([128, 120, 112]), 3);
    const out = await trainTransform(s, DEMO_FLIP_AUGMENT, new Rng(500 + seed));
    const plain = await valTransform(s, DEMO_FLIP_AUGMENT);
    const mirror = await valTransform(hflip(s), DEMO_FLIP_AUGMENT);
    assert.equal(Math.min(out.image.width, out.image.height), 128);
    if (JSON.stringify(out) === JSON.stringify(mirror)) flipped++;
    else assert.deepEqual(out, plain, `seed ${seed}`);
  }
  // binomial(200, 0.5): 100 ± 3 sd is 79..121
  assert.ok(flipped > 79 && flipped < 121, `${flipped} of ${n} flipped`);
});

test('val transform is deterministic and resizes the shortest side to valSize', async () => {
  const s = randomSample(new Rng(4), 160, 120, 3);
  const a = await valTransform(s, DEMO_AUGMENT);
  const b = await valTransform(s, DEMO_AUGMENT);
  assert.deepEqual(a, b);
  assert.deepEqual([a.image.height, a.image.width], [128, 170]);
});

test('random size crop regions lie inside the image and within [cropMin, cropMax]', () => {
  const rng = new Rng(9);
  for (let i = 0; i < 500; i++) {
    const W = rng.int(400, 900),
      H = rng.int(400, 900);
    const [top, left, h, w] = randomSizeCropRegion(rng, W, H, DETR_AUGMENT.cropMin, DETR_AUGMENT.cropMax);
    assert.ok(w >= 384 && w <= Math.min(W, 600) && h >= 384 && h <= Math.min(H, 600));
    assert.ok(top >= 0 && left >= 0 && top + h <= H && left + w <= W);
  }
  const [, , h, w] = randomSizeCropRegion(rng, 50, 40, 61, 96); // smaller than cropMin: the whole side
  assert.deepEqual([h, w], [40, 50]);
});
