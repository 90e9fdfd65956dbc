/**
 * MaxPoolGrad for the wasm backend (tfjs' own takes ~70 ns per input element here: 40 ms for the
 * ResNet stem at 224², 340 ms at 512²). dx[argmax of each window] += dy, where the argmax is the first
 * maximum in row-major window order (strictly greater replaces), as tfjs' cpu kernel and PyTorch pick
 * it; padded positions never win. Vectorised across channels: one pass over each window per pixel, in
 * WebAssembly SIMD (simd.ts `maxPoolGradPixel`, 4 channels a vector) when the channels are a multiple of 4,
 * else in JavaScript; both add into dx in the same order, so they give the same bits.
 */
import { backend_util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { heapF32, withScratch, type WasmBackend } from './heap.js';
import { simdFor } from './simd.js';

interface MaxPoolGradArgs {
  inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
  backend: WasmBackend;
  attrs: {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: unknown;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
}

function maxPoolGrad(args: MaxPoolGradArgs): TensorInfo {
  const {
    inputs: { dy, input },
    backend,
    attrs,
  } = args;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad as 'same',
    attrs.dimRoundingMode,
  );
  return withScratch(backend, (s) => {
    const dx = s.output(input.shape); // [B, H, W, C]
    s.zero(dx);
    const C = info.inChannels,
      H = info.inHeight,
      W = info.inWidth;
    const best = new Float32Array(C),
      arg = new Int32Array(C);
    const h = heapF32(s.be),
      x = s.at(input),
      d = s.at(dx);
    let o = s.at(dy);
    const simd = C % 4 === 0 ? simdFor(h) : null;
    for (let b = 0; b < info.batchSize; b++) {
      for (let oy = 0; oy < info.outHeight; oy++) {
        const y0 = oy * info.strideHeight - info.padInfo.top;
        const i0 = Math.max(0, y0),
          i1 = Math.min(H, y0 + info.filterHeight);
        for (let ox = 0; ox < info.outWidth; ox++, o += C) {
          const x0 = ox * info.strideWidth - info.padInfo.left;
          const j0 = Math.max(0, x0),
            j1 = Math.min(W, x0 + info.filterWidth);
          if (simd) {
            const xw = x + ((b * H + i0) * W + j0) * C;
            simd.maxPoolGradPixel(4 * xw, 4 * W * C, i1 - i0, j1 - j0, 4 * C, 4 * o, 4 * (d - x));
            continue;
          }
          best.fill(-Infinity);
          arg.fill(-1);
          for (let i = i0; i < i1; i++) {
            for (let j = j0; j < j1; j++) {
              const at = x + ((b * H + i) * W + j) * C;
              for (let c = 0; c < C; c++) {
                const v = h[at + c];
                if (v > best[c]) {
                  best[c] = v;
                  arg[c] = at + c;
                }
              }
            }
          }
          for (let c = 0; c < C; c++) if (arg[c] >= 0) h[d + arg[c] - x] += h[o + c];
        }
      }
    }
    return dx;
  });
}

export const maxPoolGradKernel = maxPoolGrad as unknown as KernelFunc;
