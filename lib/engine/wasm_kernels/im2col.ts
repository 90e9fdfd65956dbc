/**
 * Convolution geometry and the patch gathers of the im2col formulation (NHWC, dilation 1):
 * a conv is y[p, co] = Σ_{(i,j,c)} P[p, (i,j,c)] · W[(i,j,c), co] with P[p, (i,j,c)] =
 * x[b, oy·sh + i − pt, ox·sw + j − pl, c] (zero outside the image), p = (b, oy, ox).
 */
import type { backend_util } from '@tensorflow/tfjs-core';
import type { LeftProducer } from './gemm.js';
import { heapF32, type Scratch } from './heap.js';
import { addRun, transposeBlock } from './blocks.js';

/** Dims: B batch, H×W input, Ci in channels, Ho×Wo output, Co out channels, KH×KW filter. */
export interface ConvShape {
  B: number;
  H: number;
  W: number;
  Ci: number;
  Ho: number;
  Wo: number;
  Co: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
  pb: number;
  pr: number;
}

export function convShape(c: backend_util.Conv2DInfo): ConvShape {
  return {
    B: c.batchSize,
    H: c.inHeight,
    W: c.inWidth,
    Ci: c.inChannels,
    Ho: c.outHeight,
    Wo: c.outWidth,
    Co: c.outChannels,
    KH: c.filterHeight,
    KW: c.filterWidth,
    sh: c.strideHeight,
    sw: c.strideWidth,
    pt: c.padInfo.top,
    pl: c.padInfo.left,
    pb: c.padInfo.bottom,
    pr: c.padInfo.right,
  };
}

/** Output pixels B·Ho·Wo. */
export const numPixels = (g: ConvShape): number => g.B * g.Ho * g.Wo;
/** A 1×1 stride-1 unpadded conv: a plain matrix product over pixels. */
export const isPointwise = (g: ConvShape): boolean =>
  g.KH === 1 && g.KW === 1 && g.sh === 1 && g.sw === 1 && g.pt + g.pl + g.pb + g.pr === 0;

/** h[dst .. dst+n) = h[src .. src+n): memmove for long runs, a loop for short ones (call overhead). */
function copyRun(h: Float32Array, dst: number, src: number, n: number): void {
  if (n >= 32) h.copyWithin(dst, src, src + n);
  else for (let e = 0; e < n; e++) h[dst + e] = h[src + e];
}

/**
 * Rows p ∈ [p0, p1) of P [B·Ho·Wo, KH·KW·Ci] (dense, at `dst`) for x at float index `x`: each row is
 * KH runs of KW·Ci contiguous input floats (memmove), zeros outside the image.
 */
export function im2col(h: Float32Array, g: ConvShape, x: number, dst: number, p0 = 0, p1 = numPixels(g)): void {
  const { H, W, Ci, Ho, Wo, KH, KW, sh, sw, pt, pl } = g;
  const run = KW * Ci;
  let d = dst;
  for (let p = p0; p < p1; p++) {
    const b = Math.floor(p / (Ho * Wo)),
      oy = Math.floor((p % (Ho * Wo)) / Wo),
      ox = p % Wo;
    const j0 = Math.max(0, pl - ox * sw),
      j1 = Math.max(j0, Math.min(KW, W + pl - ox * sw));
    for (let i = 0; i < KH; i++, d += run) {
      const iy = oy * sh + i - pt;
      if (iy < 0 || iy >= H || j1 === j0) {
        h.fill(0, d, d + run);
        continue;
      }
      if (j0 > 0) h.fill(0, d, d + j0 * Ci);
      copyRun(h, d + j0 * Ci, x + ((b * H + iy) * W + ox * sw + j0 - pl) * Ci, (j1 - j0) * Ci);
      if (j1 < KW) h.fill(0, d + j1 * Ci, d + run);
    }
  }
}

/**
 * Pᵀ [(i,j,c), p] for pixel ranges [k0, k1), as the left operand of dW = Pᵀ · dy (x at float index
 * `x`): im2col of the range into a scratch block, then one transpose.
 */
export function im2colT(g: ConvShape, x: number): LeftProducer {
  const rows = g.KH * g.KW * g.Ci;
  return {
    fill(s: Scratch, dst: number, k0: number, k1: number): void {
      const tmp = s.alloc([k1 - k0, rows]); // P[k0:k1] [kn, rows]
      im2col(heapF32(s.be), g, x, s.at(tmp), k0, k1);
      transposeBlock(heapF32(s.be), s.at(tmp), rows, dst, k1 - k0, rows);
      s.free(tmp);
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
        const j0 = Math.max(0, pl - ox * sw),
          j1 = Math.min(KW, W + pl - ox * sw);
        if (j1 <= j0) continue;
        const n = (j1 - j0) * Ci;
        for (let i = 0; i < KH; i++) {
          const iy = oy * sh + i - pt;
          if (iy < 0 || iy >= H) continue;
          const s = cols + p * rowLen + (i * KW + j0) * Ci,
            d = dx + ((b * H + iy) * W + ox * sw + j0 - pl) * Ci;
          addRun(h, s, d, n);
        }
      }
    }
  }
}
