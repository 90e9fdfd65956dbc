/**
 * Convolution geometry and the patch gathers of the im2col formulation (NHWC, dilation 1):
 * a conv is y[p, co] = Σ_{(i,j,c)} P[p, (i,j,c)] · W[(i,j,c), co] with P[p, (i,j,c)] =
 * x[b, oy·sh + i − pt, ox·sw + j − pl, c] (zero outside the image), p = (b, oy, ox).
 */
import type { backend_util } from '@tensorflow/tfjs-core';
import type { LeftProducer } from './gemm.js';

/** Dims: B batch, H×W input, Ci in channels, Ho×Wo output, Co out channels, KH×KW filter. */
export interface ConvShape {
  B: number; H: number; W: number; Ci: number; Ho: number; Wo: number; Co: number;
  KH: number; KW: number; sh: number; sw: number; pt: number; pl: number; pb: number; pr: number;
}

export function convShape(c: backend_util.Conv2DInfo): ConvShape {
  return {
    B: c.batchSize, H: c.inHeight, W: c.inWidth, Ci: c.inChannels, Ho: c.outHeight, Wo: c.outWidth, Co: c.outChannels,
    KH: c.filterHeight, KW: c.filterWidth, sh: c.strideHeight, sw: c.strideWidth,
    pt: c.padInfo.top, pl: c.padInfo.left, pb: c.padInfo.bottom, pr: c.padInfo.right,
  };
}

/** Output pixels B·Ho·Wo. */
export const numPixels = (g: ConvShape): number => g.B * g.Ho * g.Wo;

/**
 * Pᵀ [(i,j,c), p] for pixel ranges [k0, k1), as the left operand of dW = Pᵀ · dy (x at float index `x`).
 * Reads run along channels, writes stride by the chunk length.
 */
export function im2colT(g: ConvShape, x: number): LeftProducer {
  const { H, W, Ci, Ho, Wo, KH, KW, sh, sw, pt, pl } = g;
  return {
    fill(h: Float32Array, dst: number, k0: number, k1: number): void {
      const kn = k1 - k0;
      let b = Math.floor(k0 / (Ho * Wo)), oy = Math.floor((k0 % (Ho * Wo)) / Wo), ox = k0 % Wo;
      for (let p = 0; p < kn; p++) {
        for (let i = 0; i < KH; i++) {
          const iy = oy * sh + i - pt, rowOk = iy >= 0 && iy < H;
          for (let j = 0; j < KW; j++) {
            const ix = ox * sw + j - pl;
            let d = dst + (i * KW + j) * Ci * kn + p;
            if (rowOk && ix >= 0 && ix < W) {
              const src = x + ((b * H + iy) * W + ix) * Ci;
              for (let c = 0; c < Ci; c++, d += kn) h[d] = h[src + c];
            } else {
              for (let c = 0; c < Ci; c++, d += kn) h[d] = 0;
            }
          }
        }
        if (++ox === Wo) { ox = 0; if (++oy === Ho) { oy = 0; b++; } }
      }
    },
  };
}

/** dx[b, iy, ix, c] += cols[p, (i,j,c)] over all patches (the adjoint of im2col); dx must be zeroed. */
export function col2imAdd(h: Float32Array, g: ConvShape, cols: number, dx: number): void {
  const { B, H, W, Ci, Ho, Wo, KH, KW, sh, sw, pt, pl } = g;
  const rowLen = KH * KW * Ci;
  let p = 0;
  for (let b = 0; b < B; b++) {
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++, p++) {
        const j0 = Math.max(0, pl - ox * sw), j1 = Math.min(KW, W + pl - ox * sw);
        if (j1 <= j0) continue;
        const n = (j1 - j0) * Ci;
        for (let i = 0; i < KH; i++) {
          const iy = oy * sh + i - pt;
          if (iy < 0 || iy >= H) continue;
          const s = cols + p * rowLen + (i * KW + j0) * Ci, d = dx + ((b * H + iy) * W + ox * sw + j0 - pl) * Ci;
          for (let e = 0; e < n; e++) h[d + e] += h[s + e];
        }
      }
    }
  }
}
