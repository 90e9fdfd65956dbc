/**
 * The data-movement cost model the kernels use to pick a formulation, in ns per element, measured on
 * the development machine (one thread, shared 2-core VM; `npm run bench -- engine` prints the figures
 * these come from). Only their ratios matter; arithmetic is the same in every formulation.
 */
export const COST_NS = {
  /** 2-D transpose on the heap (SIMD 4×4 tiles, simd.ts; ~3.5 in the JavaScript fallback). */
  transpose: 1,
  /** XNNPACK fully connected: packing a new weights matrix (3–7; worse for K in the thousands). */
  fcPack: 5,
  /** XNNPACK convolution: packing a new filter (tfjs' C transpose + XNNPACK packing; 9–25). */
  convPack: 12,
  /** im2col rows by memmove. */
  im2col: 0.5,
  /** col2im accumulation and phase scatter (SIMD adds / memmove runs). */
  col2im: 0.5,
} as const;
