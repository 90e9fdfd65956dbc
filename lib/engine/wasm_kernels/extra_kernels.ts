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

/**
 * Identity (behind `tf.clone`) sharing the input's memory, as tfjs' cpu backend and the wasm backend's own
 * Reshape do (reference counted), instead of tfjs-backend-wasm's copy. Every tensor a gradient saves is a
 * clone (tfjs-core `Engine.saveTensorsForBackwardMode`), so with the copy each saved activation was held once
 * per op that saved it (ResNet-50 at 560×746: 1.5 GB of copies); shared, it is held once. Safe because a
 * tensor's memory is never written after its kernel returns; the one in-place writer (the AdamW moments,
 * adamw.ts) checks that nothing shares the memory first.
 */
export function identityShareKernel(orig: KernelFunc): KernelFunc {
  return ((args: { inputs: { x: TensorInfo }; backend: WasmBackend & { incRef(d: object): void } }) => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return (orig as (a: unknown) => TensorInfo)(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  }) as unknown as KernelFunc;
}
