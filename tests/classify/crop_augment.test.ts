import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../lib/engine/rng.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../lib/data/batch.js';
import {
  adjustColour,
  drawAugment,
  normaliseInto,
  randomResizedCropRegion,
  resampleCoeffs,
  resampleRegion,
  valPixels,
} from '../../lib/classify/crop_augment.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

/** An RGB image whose pixel (x, y) channel c is `f(x, y, c)`. */
const image = (w: number, h: number, f: (x: number, y: number, c: number) => number) => {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  return { data, width: w, height: h };
};

test('PIL bilinear coefficients: 2× shrink = [1/8, 3/8, 3/8, 1/8]; same size = identity', () => {
  // output pixel 1 of 4 → 2: centre 3, support 2, taps x = 1..4 at distances 1.5, 0.5, 0.5, 1.5 (÷2) → 0.25, 0.75, 0.75, 0.25
  const c = resampleCoeffs(0, 8, 8, 4);
  assert.equal(c[1].start, 1);
  close(c[1].weights, [0.125, 0.375, 0.375, 0.125]);
  assert.equal(c[0].start, 0); // clipped at the border: taps 0..2 → 0.75, 0.75, 0.25
  close(c[0].weights, [0.75 / 1.75, 0.75 / 1.75, 0.25 / 1.75]);
  for (const [i, k] of resampleCoeffs(0, 5, 5, 5).entries()) {
    // same size: tap i weighs 1 (PIL keeps a zero-weight neighbour)
    assert.equal(k.start, i);
    assert.equal(k.weights[0], 1);
    assert.ok(k.weights.slice(1).every((w) => w === 0));
  }
});

test('resampling: identity region is exact, a constant stays constant, flip mirrors', () => {
  const sq = image(4, 4, (x, y, c) => 10 * x + 50 * y + c);
  close(
    resampleRegion(sq, [0, 0, 4, 4], 4),
    Array.from(sq.data, (v) => v / 255),
  );
  const flipped = resampleRegion(sq, [0, 0, 4, 4], 4, true);
  for (let y = 0; y < 4; y++)
    for (let x = 0; x < 4; x++)
      assert.ok(Math.abs(flipped[(y * 4 + x) * 3] - sq.data[(y * 4 + 3 - x) * 3] / 255) < 1e-6);
  close(
    valPixels(
      image(9, 9, () => 77),
      5,
    ),
    new Array(75).fill(77 / 255),
  );
  const pixel = (x: number, y: number) => [0, 1, 2].map((c) => sq.data[(y * 4 + x) * 3 + c] / 255);
  close(resampleRegion(sq, [1, 2, 2, 2], 2), [...pixel(2, 1), ...pixel(3, 1), ...pixel(2, 2), ...pixel(3, 2)]); // a 2×2 region at 2×2 = its pixels
});

test('region resampling equals Pillow 9.4 (mode F, BILINEAR, box=region) — figures pinned from Pillow', () => {
  const im = image(7, 6, (x, y, c) => (37 * x + 11 * y + 50 * c) % 256);
  // PIL: Image.fromarray(channel.astype(float32), 'F').resize((3, 3), BILINEAR, box=(2, 1, 7, 5)), per channel, HWC
  const pil = [
    96.25, 146.25, 196.25, 161.0, 195.4848, 74.8182, 219.1429, 92.9351, 63.1429, 110.75, 160.75, 210.75, 175.5,
    168.6111, 76.3889, 233.6429, 27.6429, 77.6429, 125.25, 175.25, 216.5227, 190.0, 183.1111, 85.7172, 141.7533,
    42.1429, 92.1429,
  ];
  close(
    resampleRegion(im, [1, 2, 4, 5], 3),
    pil.map((v) => v / 255),
    1e-4 / 255 + 1e-6,
  );
});

test('RandomResizedCrop regions lie inside the image with area ≥ minScale and ratio in [3/4, 4/3] (up to rounding)', () => {
  const rng = new Rng(5);
  for (let i = 0; i < 500; i++) {
    const [top, left, h, w] = randomResizedCropRegion(rng, 64, 64, 0.35);
    assert.ok(top >= 0 && left >= 0 && top + h <= 64 && left + w <= 64);
    assert.ok((w + 1) * (h + 1) >= 0.35 * 64 * 64, `${w}×${h}`);
    assert.ok(w / h >= (3 / 4) * 0.9 && w / h <= (4 / 3) * 1.1, `${w}/${h}`);
  }
});

test('RandomResizedCrop falls back to the centre crop (torchvision rule) when no try fits', () => {
  // 100×2 with scale 1: every try wants ~14×14 > height 2; in_ratio 50 > 4/3 → h = 2, w = round(2·4/3) = 3, i = 0, j = (100 − 3) // 2 = 48
  assert.deepEqual(randomResizedCropRegion(new Rng(0), 100, 2, 1), [0, 48, 2, 3]);
});

test('colour jitter follows torchvision: brightness scales, contrast blends with the grey mean, saturation with the pixel grey', () => {
  const px = () => Float32Array.from([0.2, 0.4, 0.6, 0.8, 1.0, 0.0]);
  const b = px();
  adjustColour(b, 'brightness', 1.5);
  close(b, [0.3, 0.6, 0.9, 1.0, 1.0, 0.0]); // clamped at 1
  const g0 = 0.2989 * 0.2 + 0.587 * 0.4 + 0.114 * 0.6,
    g1 = 0.2989 * 0.8 + 0.587 * 1.0;
  const c = px();
  adjustColour(c, 'contrast', 0);
  close(c, new Array(6).fill((g0 + g1) / 2));
  const s = px();
  adjustColour(s, 'saturation', 0);
  close(s, [g0, g0, g0, g1, g1, g1]);
});

test('ImageNet normalisation and seeded draws', () => {
  const out = new Float32Array(6);
  normaliseInto(Float32Array.from([0.485, 0.456, 0.406, 1, 1, 1]), out, 0);
  close(
    out,
    [
      0,
      0,
      0,
      (1 - IMAGENET_MEAN[0]) / IMAGENET_STD[0],
      (1 - IMAGENET_MEAN[1]) / IMAGENET_STD[1],
      (1 - IMAGENET_MEAN[2]) / IMAGENET_STD[2],
    ],
    1e-5,
  );
  const cfg = { imageSize: 32, minScale: 0.3, jitter: 0.2 };
  assert.deepEqual(drawAugment(new Rng(9), 48, 48, cfg), drawAugment(new Rng(9), 48, 48, cfg));
  const d = drawAugment(new Rng(9), 48, 48, cfg);
  assert.deepEqual(d.jitter.map((j) => j.op).sort(), ['brightness', 'contrast', 'saturation']);
  assert.ok(d.jitter.every((j) => j.factor >= 0.8 && j.factor <= 1.2));
  assert.deepEqual(drawAugment(new Rng(9), 48, 48, { ...cfg, jitter: 0 }).jitter, []);
});
