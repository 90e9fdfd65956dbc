/**
 * BatchMatMul for the wasm backend, built on XNNPACK's fully connected operator.
 *
 * tfjs-backend-wasm sends every product with a transpose flag or a batch > 1 to a scalar C loop
 * (~1.9 GFLOP/s); only batch-1, untransposed products reach XNNPACK (~23 GFLOP/s). Gradients of matMul
 * use transposes, attention uses batches, and [B,T,D]·[D,E] linear layers arrive as batch B. Here:
 * - a broadcast (batch 1) right operand folds the left operand's batches into rows: one call;
 * - other batches run one XNNPACK call each, on heap views of the operands and the output;
 * - each product goes through gemm.ts (explicit transposes, tiling, choice of C = A·B or Cᵀ = Bᵀ·Aᵀ).
 * Batch dims broadcast as in numpy; tfjs' own wasm and cpu kernels get [2,1,…]×[3,…] wrong (measured:
 * tfjs 4.22), so the tests compare against explicit broadcastTo + matMul.
 */
import { broadcast_util, util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { fcRaw, heapF32, numel, withScratch, type Scratch, type WasmBackend } from './heap.js';
import { matmul2d, TINY_MACS, type Operand } from './gemm.js';
import { transposeBlock } from './blocks.js';

/** Flat index into a batch of shape `inShape` for flat index `i` of the broadcast batch `outShape`. */
export function broadcastIndex(outShape: readonly number[], inShape: readonly number[], i: number): number {
  let idx = 0,
    stride = 1,
    rem = i;
  for (let d = outShape.length - 1; d >= 0; d--) {
    const c = rem % outShape[d];
    rem = Math.floor(rem / outShape[d]);
    const di = d - (outShape.length - inShape.length);
    if (di >= 0) {
      if (inShape[di] !== 1) idx += c * stride;
      stride *= inShape[di];
    }
  }
  return idx;
}

interface MatmulDims {
  M: number;
  K: number;
  N: number;
  batchA: number[];
  batchB: number[];
  outBatch: number[];
}
function dims(a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean): MatmulDims {
  const ra = a.shape.length,
    rb = b.shape.length;
  if (ra < 2 || rb < 2) throw new Error(`BatchMatMul needs rank ≥ 2 operands, got [${a.shape}] and [${b.shape}]`);
  const M = tA ? a.shape[ra - 1] : a.shape[ra - 2],
    Ka = tA ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = tB ? b.shape[rb - 1] : b.shape[rb - 2],
    N = tB ? b.shape[rb - 2] : b.shape[rb - 1];
  util.assert(
    Ka === Kb,
    () =>
      `Error in matMul: inner shapes (${Ka}) and (${Kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${tA} and transposeB=${tB} must match.`,
  );
  const batchA = a.shape.slice(0, -2),
    batchB = b.shape.slice(0, -2);
  return { M, K: Ka, N, batchA, batchB, outBatch: broadcast_util.assertAndGetBroadcastShape(batchA, batchB) };
}

/** Runs the batched product into `out` (a Scratch output of shape [...outBatch, M, N]). */
function batchedInto(
  s: Scratch,
  a: TensorInfo,
  b: TensorInfo,
  tA: boolean,
  tB: boolean,
  d: MatmulDims,
  out: TensorInfo,
): void {
  const { M, K, N, batchA, batchB, outBatch } = d;
  const nA = numel(batchA),
    nB = numel(batchB),
    nOut = numel(outBatch);
  let opA: Operand = { at: s.at(a), t: tA },
    opB: Operand = { at: s.at(b), t: tB };
  if (nB === 1 && !tA && !tB && M * nA * K * N > TINY_MACS) {
    // A·W with a plain right operand (linear layers): XNNPACK packs W under W's own id, so a W that is
    // used again (inference) is not re-packed, exactly as in tfjs' kernel.
    fcRaw(s, a, b, out, nA * M, K, N);
    return;
  }
  if (nB === 1 && !tA) {
    matmul2d(s, opA, opB, s.at(out), nA * M, K, N);
    return;
  } // fold batches into rows
  // A broadcast operand is transposed once, not once per batch.
  if (nB === 1 && tB && nOut > 1) opB = { at: transposedCopy(s, opB.at, N, K), t: false };
  if (nA === 1 && tA && nOut > 1) opA = { at: transposedCopy(s, opA.at, K, M), t: false };
  for (let i = 0; i < nOut; i++) {
    const ia = broadcastIndex(outBatch, batchA, i),
      ib = broadcastIndex(outBatch, batchB, i);
    matmul2d(
      s,
      { at: opA.at + ia * M * K, t: opA.t },
      { at: opB.at + ib * K * N, t: opB.t },
      s.at(out) + i * M * N,
      M,
      K,
      N,
    );
  }
}

/** A scratch copy [C, R] of the R×C matrix at `src`; returns its float index. */
function transposedCopy(s: Scratch, src: number, R: number, C: number): number {
  const t = s.alloc([C, R]);
  transposeBlock(heapF32(s.be), src, C, s.at(t), R, C);
  return s.at(t);
}

interface BatchMatMulArgs {
  inputs: { a: TensorInfo; b: TensorInfo };
  backend: WasmBackend;
  attrs: { transposeA: boolean; transposeB: boolean };
}

/** Kernel function for `BatchMatMul`; `fallback` handles what it does not (non-float32 operands). */
export function makeBatchMatMul(fallback: KernelFunc): KernelFunc {
  return ((args: BatchMatMulArgs) => {
    const {
      inputs: { a, b },
      backend,
      attrs,
    } = args;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args as never);
    const tA = !!attrs.transposeA,
      tB = !!attrs.transposeB;
    const d = dims(a, b, tA, tB);
    return withScratch(backend, (s) => {
      const out = s.output([...d.outBatch, d.M, d.N]); // [...batch, M, N]
      if (numel(out.shape) > 0) batchedInto(s, a, b, tA, tB, d, out);
      return out;
    });
  }) as unknown as KernelFunc;
}
