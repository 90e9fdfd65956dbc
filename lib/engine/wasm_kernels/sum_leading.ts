/**
 * Sum over leading axes for the wasm backend: y[j] = Σ_i x[i, j] with x seen as [rows, inner]. That is
 * the gradient of every per-channel bias (fused conv, linear layers: dy summed over batch and pixels or
 * tokens). tfjs' Sum first transposes the reduced axes innermost (5–10 ns per element) and then sums;
 * here whole rows are added with SIMD (blocks.ts), in blocks of 256 rows whose partial sums are then
 * added, which also bounds float32 rounding growth. Other reductions go to tfjs' kernel.
 */
import { util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { heapF32, numel, withScratch, type Scratch, type WasmBackend } from './heap.js';
import { addRun } from './blocks.js';

const BLOCK_ROWS = 256;

interface SumArgs {
  inputs: { x: TensorInfo };
  backend: WasmBackend;
  attrs: { axis: number | number[]; keepDims: boolean };
}

/** Number of leading axes reduced, or -1 if `axis` is not a proper leading prefix. */
function leadingAxes(shape: number[], axis: number | number[]): number {
  const axes = util.parseAxisParam(axis, shape).sort((a, b) => a - b);
  const prefix = axes.every((a, i) => a === i);
  return prefix && axes.length > 0 && axes.length < shape.length ? axes.length : -1;
}

function sumRows(s: Scratch, x: number, out: number, rows: number, inner: number): void {
  const block = s.alloc([inner]),
    b = s.at(block);
  heapF32(s.be).fill(0, out, out + inner);
  for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
    const h = heapF32(s.be);
    h.copyWithin(b, x + r0 * inner, x + (r0 + 1) * inner);
    for (let r = r0 + 1; r < Math.min(rows, r0 + BLOCK_ROWS); r++) addRun(h, x + r * inner, b, inner);
    addRun(h, b, out, inner);
  }
}

/** Kernel function for `Sum`; `original` is tfjs' (every case but float32 leading-axes sums). */
export function makeSum(original: KernelFunc): KernelFunc {
  return ((args: SumArgs) => {
    const {
      inputs: { x },
      backend,
      attrs,
    } = args;
    const lead = x.dtype === 'float32' ? leadingAxes(x.shape, attrs.axis) : -1;
    if (lead < 0 || numel(x.shape) === 0) return original(args as never);
    const rows = numel(x.shape.slice(0, lead)),
      inner = numel(x.shape.slice(lead));
    return withScratch(backend, (s) => {
      const out = s.output(
        attrs.keepDims ? [...x.shape.slice(0, lead).map(() => 1), ...x.shape.slice(lead)] : x.shape.slice(lead),
      );
      sumRows(s, s.at(x), s.at(out), rows, inner);
      return out;
    });
  }) as unknown as KernelFunc;
}
