/**
 * Small kernels that gradients of common ops need and tfjs-backend-wasm 4.22 lacks.
 * - UnsortedSegmentSum: the gradient of gather (embedding lookups, picking class log-probs in a loss).
 *   out[s, …] = Σ_{i: ids[i] = s} data[i, …]; ids outside [0, numSegments) are dropped (as in
 *   TensorFlow's UnsortedSegmentSum and tfjs' cpu kernel).
 */
import { util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { f32Offset, numel, type WasmBackend } from './heap.js';

interface SegmentSumArgs {
  inputs: { x: TensorInfo; segmentIds: TensorInfo };
  backend: WasmBackend;
  attrs: { numSegments: number };
}

function heapView(be: WasmBackend, dtype: string): Float32Array | Int32Array {
  const buf = be.wasm.HEAPF32.buffer;
  if (dtype === 'float32') return new Float32Array(buf);
  if (dtype === 'int32') return new Int32Array(buf);
  throw new Error(`UnsortedSegmentSum: dtype ${dtype} is not supported on wasm`);
}

function unsortedSegmentSum(args: SegmentSumArgs): TensorInfo {
  const {
    inputs: { x, segmentIds },
    backend: be,
    attrs: { numSegments },
  } = args;
  const idRank = segmentIds.shape.length;
  util.assert(
    segmentIds.dtype === 'int32',
    () => `UnsortedSegmentSum: segmentIds must be int32, got ${segmentIds.dtype}`,
  );
  util.assert(
    x.shape.slice(0, idRank).join() === segmentIds.shape.join(),
    () => `UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of data shape [${x.shape}]`,
  );
  const inner = numel(x.shape.slice(idRank)),
    rows = numel(segmentIds.shape);
  const out = be.makeOutput([numSegments, ...x.shape.slice(idRank)], x.dtype); // [numSegments, …]
  const h = heapView(be, x.dtype),
    ids = new Int32Array(be.wasm.HEAPF32.buffer);
  const o = f32Offset(be, out),
    xs = f32Offset(be, x),
    is = f32Offset(be, segmentIds);
  h.fill(0, o, o + numSegments * inner);
  for (let i = 0; i < rows; i++) {
    const seg = ids[is + i];
    if (seg < 0 || seg >= numSegments) continue;
    const d = o + seg * inner,
      src = xs + i * inner;
    for (let c = 0; c < inner; c++) h[d + c] += h[src + c];
  }
  return out;
}

export const unsortedSegmentSumKernel = unsortedSegmentSum as unknown as KernelFunc;
