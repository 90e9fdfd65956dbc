/**
 * General matrix product on the wasm heap through XNNPACK's fully connected operator (the one fast
 * product tfjs-backend-wasm exposes: C[M,N] = A[M,K]·B[K,N], row-major, no transposes).
 *
 * Costs (costs.ts, measured on the development machine):
 * - XNNPACK re-packs its "weights" operand B on every call here (fresh tensor ids): 3–7 ns/element;
 * - it slows down when B is large (several MB) or K is long (thousands), so products are cut into
 *   K-chunks and N-blocks whose B tile stays under `limits.weightsMax` floats, partial sums added;
 * - explicit transposes (blocks.ts) cost ~1 ns/element (SIMD).
 * A product with transposed operands is computed either directly (transposing what must be) or as
 * Cᵀ = Bᵀ·Aᵀ followed by one transpose of the result, whichever the cost model finds cheaper.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { gemmRaw, heapF32, type Scratch } from './heap.js';
import { addBlock, copyBlock, transposeBlock } from './blocks.js';
import { COST_NS } from './costs.js';

/** A matrix at float index `at`; `t`: stored transposed (an M×K operand stored as K×M). */
export interface Operand {
  at: number;
  t: boolean;
}
/** A left operand made on demand: writes op(A)[:, k0:k1] as a dense [M, k1-k0] block at `dst`. */
export interface LeftProducer {
  fill(s: Scratch, dst: number, k0: number, k1: number): void;
}

/** Tiling limits (floats); `setGemmLimits` exists for the benchmark's comparisons. */
const limits = { weightsMax: 256 * 1024, kMax: 2048 };
export const gemmLimits = (): Readonly<typeof limits> => ({ ...limits });
export function setGemmLimits(l: Partial<typeof limits>): void {
  Object.assign(limits, l);
}

const TRANSPOSE_NS = COST_NS.transpose,
  PACK_NS = COST_NS.fcPack;
/** Below this many multiply-adds a plain JS loop beats creating an XNNPACK operator. */
export const TINY_MACS = 8192;

/** Estimated data-movement cost (ns) of both formulations of op(A)[M,K]·op(B)[K,N]. */
function matmulCosts(
  M: number,
  K: number,
  N: number,
  tA: boolean,
  tB: boolean,
): { direct: number; transposed: number } {
  return {
    direct: TRANSPOSE_NS * ((tA ? M * K : 0) + (tB ? K * N : 0)) + PACK_NS * K * N,
    transposed: TRANSPOSE_NS * ((tA ? 0 : M * K) + (tB ? 0 : K * N) + M * N) + PACK_NS * M * K,
  };
}
/** Which formulation `matmul2d` uses ('direct': C = A·B; else Cᵀ = Bᵀ·Aᵀ then a transpose). */
export function matmulPlan(M: number, K: number, N: number, tA: boolean, tB: boolean): 'direct' | 'transposed' {
  const c = matmulCosts(M, K, N, tA, tB);
  return c.direct <= c.transposed ? 'direct' : 'transposed';
}
/** The overhead (ns, beyond the arithmetic) `matmul2d` is expected to pay. */
export function matmulOverheadNs(M: number, K: number, N: number, tA: boolean, tB: boolean): number {
  const c = matmulCosts(M, K, N, tA, tB);
  return Math.min(c.direct, c.transposed);
}

/** out[M,N] (dense, at float index `out`) = op(a)[M,K] · op(b)[K,N]. */
export function matmul2d(s: Scratch, a: Operand, b: Operand, out: number, M: number, K: number, N: number): void {
  if (M === 0 || N === 0) return;
  if (K === 0 || M * K * N <= TINY_MACS) {
    naiveMatmul(heapF32(s.be), a, b, out, M, K, N);
    return;
  }
  if (matmulPlan(M, K, N, a.t, b.t) === 'direct') {
    gemmTiled(s, a, b, out, M, K, N);
    return;
  }
  const tmp = s.alloc([N, M]); // Cᵀ [N, M]
  gemmTiled(s, { at: b.at, t: !b.t }, { at: a.at, t: !a.t }, s.at(tmp), N, K, M);
  transposeBlock(heapF32(s.be), s.at(tmp), M, out, N, M);
  s.free(tmp);
}

function naiveMatmul(h: Float32Array, a: Operand, b: Operand, out: number, M: number, K: number, N: number): void {
  const [ai, ak] = a.t ? [1, M] : [K, 1]; // element strides of op(a)[i,k]
  const [bk, bj] = b.t ? [1, K] : [N, 1];
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += h[a.at + i * ai + k * ak] * h[b.at + k * bk + j * bj];
      h[out + i * N + j] = acc;
    }
  }
}

/** out[M,N] = op(a)·op(b) in K-chunks × N-blocks, each one XNNPACK call on dense tiles. */
export function gemmTiled(
  s: Scratch,
  a: Operand | LeftProducer,
  b: Operand,
  out: number,
  M: number,
  K: number,
  N: number,
): void {
  const whole = K * N <= limits.weightsMax && K <= limits.kMax;
  const kc = whole ? K : Math.min(K, limits.kMax);
  const nb = whole ? N : Math.min(N, Math.max(16, Math.floor(limits.weightsMax / kc)));
  const needA = 'fill' in a || a.t || kc < K,
    needB = b.t || nb < N,
    needOut = kc < K || nb < N;
  const bufs: TensorInfo[] = [];
  const buf = (need: boolean, n: number): number => {
    if (!need) return -1;
    const t = s.alloc([n]);
    bufs.push(t);
    return s.at(t);
  };
  const aBuf = buf(needA, M * kc),
    bBuf = buf(needB, kc * nb),
    oBuf = buf(needOut, M * nb);
  for (let k0 = 0; k0 < K; k0 += kc) {
    const k1 = Math.min(K, k0 + kc),
      kn = k1 - k0;
    const aTile = needA ? leftTile(s, a, aBuf, M, K, k0, k1) : (a as Operand).at; // [M, kn]
    for (let n0 = 0; n0 < N; n0 += nb) {
      const nn = Math.min(N, n0 + nb) - n0;
      const bTile = needB ? rightTile(heapF32(s.be), b, bBuf, K, N, k0, kn, n0, nn) : b.at + k0 * N; // [kn, nn]
      const direct = k0 === 0 && nn === N; // write straight into out
      gemmRaw(s, aTile, bTile, direct ? out : oBuf, M, kn, nn);
      const h = heapF32(s.be);
      if (!direct && k0 === 0) copyBlock(h, oBuf, nn, out + n0, N, M, nn);
      else if (!direct) addBlock(h, oBuf, out + n0, N, M, nn);
    }
  }
  for (const t of bufs) s.free(t);
}

function leftTile(
  s: Scratch,
  a: Operand | LeftProducer,
  dst: number,
  M: number,
  K: number,
  k0: number,
  k1: number,
): number {
  const h = heapF32(s.be);
  if ('fill' in a) a.fill(s, dst, k0, k1);
  else if (a.t)
    transposeBlock(h, a.at + k0 * M, M, dst, k1 - k0, M); // stored [K, M]
  else copyBlock(h, a.at + k0, K, dst, k1 - k0, M, k1 - k0); // stored [M, K]
  return dst;
}

function rightTile(
  h: Float32Array,
  b: Operand,
  dst: number,
  K: number,
  N: number,
  k0: number,
  kn: number,
  n0: number,
  nn: number,
): number {
  if (b.t)
    transposeBlock(h, b.at + n0 * K + k0, K, dst, nn, kn); // stored [N, K]
  else copyBlock(h, b.at + k0 * N + n0, N, dst, nn, kn, nn); // stored [K, N]
  return dst;
}
