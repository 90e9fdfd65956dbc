/**
 * Canny edges as OpenCV's `cv::Canny(src, dst, low, high, apertureSize=3, L2gradient=false)` computes
 * them (modules/imgproc/src/canny.cpp), so that control images match the diffusers ControlNet docs'
 * `cv2.Canny(image, 100, 200)`:
 *   Sobel 3×3 dx, dy (BORDER_REPLICATE) per channel; L1 magnitude |dx|+|dy|; for several channels the
 *   channel with the largest magnitude wins (the docs pass an RGB array); thresholds floored, swapped if
 *   low > high; non-maximum suppression in 4 sectors split at tan 22.5° (fixed-point TG22 like OpenCV,
 *   with its strict/non-strict comparisons); strong = local max with m > high, weak = local max with
 *   m > low; 8-connected hysteresis from the strong pixels. Magnitudes outside the image count as 0.
 * Optional Gaussian pre-blur (`blurSigma` > 0; OpenCV's kernel size rule for 8-bit, BORDER_REFLECT_101,
 * rounded back to 8 bits). Differences: the blur is float then rounded (OpenCV uses fixed point, ±1 level).
 */
export interface CannyOptions {
  low: number;
  high: number;
  blurSigma?: number;
}

export interface GrayOrRgb {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

const TG22 = Math.floor(0.4142135623730950488016887242097 * (1 << 15) + 0.5);

/** Edge map: 255 on edges, 0 elsewhere, [height·width]. */
export function canny(img: GrayOrRgb, o: CannyOptions): Uint8Array {
  const src = o.blurSigma && o.blurSigma > 0 ? gaussianBlur(img, o.blurSigma) : img;
  const { mag, dx, dy } = sobelMagnitude(src);
  let low = o.low,
    high = o.high;
  if (low > high) [low, high] = [high, low];
  const map = suppressNonMaxima(mag, dx, dy, src.width, src.height, Math.floor(low), Math.floor(high));
  return hysteresis(map, src.width, src.height);
}

/** Per-pixel L1 magnitude and the dx, dy of the strongest channel (Int32 arrays [h·w]). */
export function sobelMagnitude(img: GrayOrRgb): { mag: Int32Array; dx: Int32Array; dy: Int32Array } {
  const { data, width: w, height: h, channels: cn } = img;
  const mag = new Int32Array(w * h).fill(-1),
    dx = new Int32Array(w * h),
    dy = new Int32Array(w * h);
  const at = (x: number, y: number, c: number) =>
    data[(Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))) * cn + c];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      for (let c = 0; c < cn; c++) {
        const gx =
          at(x + 1, y - 1, c) +
          2 * at(x + 1, y, c) +
          at(x + 1, y + 1, c) -
          at(x - 1, y - 1, c) -
          2 * at(x - 1, y, c) -
          at(x - 1, y + 1, c);
        const gy =
          at(x - 1, y + 1, c) +
          2 * at(x, y + 1, c) +
          at(x + 1, y + 1, c) -
          at(x - 1, y - 1, c) -
          2 * at(x, y - 1, c) -
          at(x + 1, y - 1, c);
        const m = Math.abs(gx) + Math.abs(gy);
        if (m > mag[i]) {
          mag[i] = m;
          dx[i] = gx;
          dy[i] = gy;
        }
      }
    }
  }
  return { mag, dx, dy };
}

/** 0 = weak candidate, 1 = not an edge, 2 = strong edge; a (w+2)·(h+2) map with a border of 1s. */
function suppressNonMaxima(
  mag: Int32Array,
  dx: Int32Array,
  dy: Int32Array,
  w: number,
  h: number,
  low: number,
  high: number,
): Uint8Array {
  const map = new Uint8Array((w + 2) * (h + 2)).fill(1);
  const m = (x: number, y: number) => (x < 0 || y < 0 || x >= w || y >= h ? 0 : mag[y * w + x]);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = mag[y * w + x];
      if (v <= low) continue;
      const xs = dx[y * w + x],
        ys = dy[y * w + x];
      const ax = Math.abs(xs),
        ay = Math.abs(ys) * (1 << 15);
      const tg22x = ax * TG22;
      let isMax: boolean;
      if (ay < tg22x)
        isMax = v > m(x - 1, y) && v >= m(x + 1, y); // horizontal gradient
      else if (ay > tg22x + ax * (1 << 16))
        isMax = v > m(x, y - 1) && v >= m(x, y + 1); // vertical gradient
      else {
        const s = xs < 0 !== ys < 0 ? -1 : 1; // OpenCV: (xs ^ ys) < 0
        isMax = v > m(x - s, y - 1) && v > m(x + s, y + 1);
      }
      if (isMax) map[(y + 1) * (w + 2) + x + 1] = v > high ? 2 : 0;
    }
  }
  return map;
}

function hysteresis(map: Uint8Array, w: number, h: number): Uint8Array {
  const step = w + 2;
  const stack: number[] = [];
  for (let i = 0; i < map.length; i++) if (map[i] === 2) stack.push(i);
  const offsets = [-1, 1, -step - 1, -step, -step + 1, step - 1, step, step + 1];
  while (stack.length) {
    const i = stack.pop()!;
    for (const o of offsets)
      if (map[i + o] === 0) {
        map[i + o] = 2;
        stack.push(i + o);
      }
  }
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = map[(y + 1) * step + x + 1] === 2 ? 255 : 0;
  return out;
}

/** OpenCV `GaussianBlur(src, Size(0,0), sigma)` for 8-bit: ksize = round(6σ+1)|1, BORDER_REFLECT_101, per channel. */
export function gaussianBlur(img: GrayOrRgb, sigma: number): GrayOrRgb {
  const k = Math.round(sigma * 6 + 1) | 1,
    r = (k - 1) / 2;
  const wts = Array.from({ length: k }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = wts.reduce((a, b) => a + b, 0);
  const kern = wts.map((v) => v / sum);
  const { width: w, height: h, channels: cn } = img;
  const reflect = (i: number, n: number) => {
    if (n === 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
    return i;
  };
  const tmp = new Float32Array(w * h * cn);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < cn; c++) {
        let acc = 0;
        for (let j = 0; j < k; j++) acc += kern[j] * img.data[(y * w + reflect(x + j - r, w)) * cn + c];
        tmp[(y * w + x) * cn + c] = acc;
      }
  const out = new Uint8Array(w * h * cn);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < cn; c++) {
        let acc = 0;
        for (let j = 0; j < k; j++) acc += kern[j] * tmp[(reflect(y + j - r, h) * w + x) * cn + c];
        out[(y * w + x) * cn + c] = Math.min(255, Math.max(0, Math.round(acc)));
      }
  return { data: out, width: w, height: h, channels: cn };
}
