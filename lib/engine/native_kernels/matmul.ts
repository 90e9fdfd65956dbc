/**
 * BatchMatMul on onnxruntime's MLAS: a 2-D product is one Gemm (transA/transB as attributes); batched ones are
 * MatMul (numpy broadcasting of the batch dims, as detrlab's wasm kernel) with the transposed operand swapped
 * by a Transpose node, which onnxruntime's graph optimizer folds into its fused MatMul where it can.
 * Measured against the wasm kernel for every shape the demo and R50 DETR steps use (bench/kernels.ts `--native`):
 * 1.3–5× faster. A native call costs ~14 µs however small (4×4: wasm 8 µs, native 14; 16×16: 18 / 15; 64×64:
 * 38 / 21), so products below MIN_NATIVE_MATMUL_MACS stay on wasm.
 */
import { broadcast_util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { attr, GraphBuilder } from '../../synth/onnx/graph_builder.js';
import { numel, withScratch, type WasmBackend } from '../wasm_kernels/heap.js';
import { sessions } from './conv.js';

export const MIN_NATIVE_MATMUL_MACS = 4096;

let enabled = true;
/** Turns the native BatchMatMul off (to the wasm kernel) or on; conv kernels are unaffected. */
export function setNativeMatMul(on: boolean): void {
  enabled = on;
}

function graph(a: number[], b: number[], tA: boolean, tB: boolean, out: number[]): Uint8Array {
  const g = new GraphBuilder('batch_matmul');
  const ai = g.input('a', 'float', a),
    bi = g.input('b', 'float', b);
  let y: string;
  if (a.length === 2 && b.length === 2) {
    y = g.op('Gemm', [ai, bi], { transA: attr.int(tA ? 1 : 0), transB: attr.int(tB ? 1 : 0) });
  } else {
    const t = (x: string, r: number) => {
      const p = [...Array(r).keys()];
      return g.op('Transpose', [x], { perm: attr.ints([...p.slice(0, -2), r - 1, r - 2]) });
    };
    y = g.op('MatMul', [tA ? t(ai, a.length) : ai, tB ? t(bi, b.length) : bi]);
  }
  g.output('y', 'float', out, y);
  return g.toBytes();
}

interface BatchMatMulArgs {
  inputs: { a: TensorInfo; b: TensorInfo };
  backend: WasmBackend;
  attrs: { transposeA: boolean; transposeB: boolean };
}

export function makeNativeBatchMatMul(fallback: KernelFunc): KernelFunc {
  return ((args: BatchMatMulArgs) => {
    const {
      inputs: { a, b },
      attrs,
      backend,
    } = args;
    if (!enabled || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2)
      return fallback(args as never);
    const tA = !!attrs.transposeA,
      tB = !!attrs.transposeB;
    const ra = a.shape.length,
      rb = b.shape.length;
    const M = a.shape[tA ? ra - 1 : ra - 2],
      Ka = a.shape[tA ? ra - 2 : ra - 1],
      Kb = b.shape[tB ? rb - 1 : rb - 2],
      N = b.shape[tB ? rb - 2 : rb - 1];
    if (Ka !== Kb) return fallback(args as never); // its error message
    let batch: number[];
    try {
      batch = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    } catch {
      return fallback(args as never);
    }
    const out = [...batch, M, N];
    if (numel(out) === 0 || numel(out) * Ka < MIN_NATIVE_MATMUL_MACS) return fallback(args as never);
    const op = sessions.get(`mm|${a.shape}|${b.shape}|${+tA}${+tB}`, () => graph(a.shape, b.shape, tA, tB, out));
    return withScratch(backend, (s) => {
      const y = s.output(out);
      op.run(backend, { a, b }, { y });
      return y;
    });
  }) as unknown as KernelFunc;
}
