/**
 * Block moves on the wasm heap: transposes, strided copies and accumulations of 2-D blocks addressed by
 * float index and row stride (`ld`, "leading dimension", in floats). The 4-aligned bulk of transposes
 * and additions runs in WebAssembly SIMD (simd.ts) when available; edges and fallbacks in JavaScript
 * (cache-blocked, 3–6 ns per element here; tfjs' own Transpose kernel takes 5–10). Row copies go
 * through `copyWithin` (memmove).
 */
import { simdFor } from './simd.js';

const TILE = 32;

/** dst[c*ldDst + r] = h[src + r*ld + c] for r < R, c < C, in JavaScript. */
function transposeJs(h: Float32Array, src: number, ld: number, dst: number, ldDst: number, R: number, C: number): void {
  for (let c0 = 0; c0 < C; c0 += TILE) {
    const c1 = Math.min(C, c0 + TILE);
    for (let r0 = 0; r0 < R; r0 += TILE) {
      const r1 = Math.min(R, r0 + TILE);
      for (let c = c0; c < c1; c++) {
        const d = dst + c * ldDst,
          s = src + c;
        for (let r = r0; r < r1; r++) h[d + r] = h[s + r * ld];
      }
    }
  }
}

/** dst[c*R + r] = h[src + r*ld + c] for r < R, c < C (dst is a dense C×R block; no overlap). */
export function transposeBlock(h: Float32Array, src: number, ld: number, dst: number, R: number, C: number): void {
  if (R === 1) {
    h.copyWithin(dst, src, src + C);
    return;
  }
  const simd = R >= 4 && C >= 4 ? simdFor(h) : null;
  if (!simd) {
    transposeJs(h, src, ld, dst, R, R, C);
    return;
  }
  const R4 = R & ~3,
    C4 = C & ~3;
  simd.transpose4(src * 4, ld, dst * 4, R, C); // rows < R4, cols < C4
  if (R4 < R) transposeJs(h, src + R4 * ld, ld, dst + R4, R, R - R4, C); // last rows, all cols
  if (C4 < C) transposeJs(h, src + C4, ld, dst + C4 * R, R, R4, C - C4); // last cols
}

/** Dense R×C copy: dst[r*ldDst + c] = h[src + r*ldSrc + c]. */
export function copyBlock(
  h: Float32Array,
  src: number,
  ldSrc: number,
  dst: number,
  ldDst: number,
  R: number,
  C: number,
): void {
  if (ldSrc === C && ldDst === C) {
    h.copyWithin(dst, src, src + R * C);
    return;
  }
  for (let r = 0; r < R; r++) h.copyWithin(dst + r * ldDst, src + r * ldSrc, src + r * ldSrc + C);
}

/** h[dst + i] += h[src + i] for i < n. */
export function addRun(h: Float32Array, src: number, dst: number, n: number): void {
  const simd = n >= 16 ? simdFor(h) : null;
  if (simd) {
    simd.addInto(src * 4, dst * 4, n);
    return;
  }
  for (let i = 0; i < n; i++) h[dst + i] += h[src + i];
}

/** dst[r*ldDst + c] += h[src + r*C + c] for a dense R×C source block. */
export function addBlock(h: Float32Array, src: number, dst: number, ldDst: number, R: number, C: number): void {
  if (ldDst === C) {
    addRun(h, src, dst, R * C);
    return;
  }
  for (let r = 0; r < R; r++) addRun(h, src + r * C, dst + r * ldDst, C);
}
