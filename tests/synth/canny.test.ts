/**
 * Canny against cases worked out from OpenCV's cv::Canny rules (canny.cpp, L1, aperture 3): where a step
 * edge lands, strict vs non-strict NMS comparisons, hysteresis through weak pixels, threshold swap, the
 * strongest-channel rule, and the Gaussian kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canny, gaussianBlur, GrayOrRgb, sobelMagnitude } from '../../lib/synth/canny.js';

const W = 12,
  H = 10;
const gray = (f: (x: number, y: number) => number, w = W, h = H): GrayOrRgb => ({
  data: Uint8Array.from({ length: w * h }, (_, i) => f(i % w, Math.floor(i / w))),
  width: w,
  height: h,
  channels: 1,
});
const edgeCols = (e: Uint8Array, y: number, w = W) =>
  Array.from({ length: w }, (_, x) => x).filter((x) => e[y * w + x]);
const edgeRows = (e: Uint8Array, x: number, w = W, h = H) =>
  Array.from({ length: h }, (_, y) => y).filter((y) => e[y * w + x]);

test('vertical step: Sobel |dx| = 4·Δ on both sides; NMS keeps the left column (m > left, m ≥ right)', () => {
  const img = gray((x) => (x < 6 ? 0 : 200));
  const { mag, dx, dy } = sobelMagnitude(img);
  assert.equal(mag[3 * W + 5], 800);
  assert.equal(mag[3 * W + 6], 800);
  assert.equal(mag[3 * W + 4], 0);
  assert.equal(dx[3 * W + 5], 800);
  assert.equal(dy[3 * W + 5], 0);
  const e = canny(img, { low: 100, high: 200 });
  for (let y = 0; y < H; y++) assert.deepEqual(edgeCols(e, y), [5], `row ${y}`);
});

test('horizontal step: the row above the step (m > up, m ≥ down)', () => {
  const e = canny(
    gray((_, y) => (y < 4 ? 30 : 230)),
    { low: 100, high: 200 },
  );
  for (let x = 0; x < W; x++) assert.deepEqual(edgeRows(e, x), [3], `column ${x}`);
});

test('hysteresis: weak pixels survive only when 8-connected to a strong one; thresholds are strict', () => {
  // step at x = 4 with contrast 100 in rows 0–4 (|dx| = 400: strong) and 30 in rows 5–9 (|dx| = 120: weak)
  const img = gray((x, y) => (x < 4 ? 0 : y < 5 ? 100 : 30));
  const e = canny(img, { low: 100, high: 200 });
  // rows 6–9 are weak (m = 120) and kept because they connect to the strong rows; at the corner (rows 4–5) the
  // maximum moves right: m(3,4) = |330| + |−70| = 400 < m(4,4) = |330| + |−210| = 540, so (3,4) is suppressed
  assert.deepEqual(edgeRows(e, 3), [0, 1, 2, 3, 6, 7, 8, 9]);
  assert.ok(e[4 * W + 4] && e[5 * W + 4]);
  const weakOnly = gray((x) => (x < 4 ? 0 : 30)); // the same weak step alone: nothing
  assert.equal(
    canny(weakOnly, { low: 100, high: 200 }).reduce((a, b) => a + b, 0),
    0,
  );
  assert.ok(canny(weakOnly, { low: 100, high: 119 }).some((v) => v > 0)); // 120 > 119: strong
  assert.deepEqual(Array.from(canny(img, { low: 200, high: 100 })), Array.from(e)); // swapped thresholds
  const flat = gray((x) => (x < 6 ? 0 : 50)); // |dx| = 200: not > high 200
  assert.equal(
    canny(flat, { low: 100, high: 200 }).reduce((a, b) => a + b, 0),
    0,
  );
  assert.ok(canny(flat, { low: 100, high: 199 }).some((v) => v > 0));
});

test('colour input: the channel with the largest magnitude decides (cv2.Canny on an RGB array)', () => {
  const w = 8,
    h = 6;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(y * w + x) * 3 + 2] = x < 4 ? 0 : 255; // edge in blue only
  const e = canny({ data, width: w, height: h, channels: 3 }, { low: 100, high: 200 });
  for (let y = 0; y < h; y++) assert.deepEqual(edgeCols(e, y, w), [3]);
});

test('Gaussian blur: OpenCV kernel size rule, a constant image stays constant, a step is smoothed symmetrically', () => {
  const flat = gaussianBlur(
    gray(() => 77),
    1.5,
  );
  assert.ok(flat.data.every((v) => v === 77));
  const b = gaussianBlur(
    gray((x) => (x < 6 ? 0 : 200)),
    1,
  ).data;
  assert.equal(b[5] + b[6], 200); // symmetric around the step
  assert.ok(b[4] > 0 && b[4] < b[5] && b[5] < 100);
  assert.ok(b[1] === 0 || b[1] <= 1); // 7-tap kernel (σ = 1): reaches 3 pixels
});
