/**
 * Tile for the wasm backend (also behind tf.broadcastTo). tfjs' kernel computes every output element's
 * source index (~45 ns per element here: 25 ms to broadcast a [2,1,1,256] tensor over a 32×32 map).
 * Here each input row is copied once and every repetition is made by doubling memmoves of the part
 * already written, innermost dimension first: O(log reps) copies per block. A bit-exact copy, so it
 * serves float32 and int32 (4-byte elements) and bool (1 byte); other dtypes go to tfjs' kernel.
 */
import { util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { f32Offset, withScratch, type WasmBackend } from './heap.js';

interface TileArgs {
  inputs: { x: TensorInfo };
  backend: WasmBackend;
  attrs: { reps: number[] };
}

/** h[at + n·len, at + reps·len) = reps−1 more copies of h[at, at + len), by doubling. */
function repeatBlock(h: Float32Array | Uint8Array, at: number, len: number, reps: number): void {
  let done = 1;
  while (done < reps) {
    const k = Math.min(done, reps - done);
    h.copyWithin(at + done * len, at, at + k * len);
    done += k;
  }
}

function tileInto(h: Float32Array | Uint8Array, x: number, out: number, shape: number[], reps: number[]): void {
  const rank = shape.length;
  const inStride = util.computeStrides(shape),
    outShape = shape.map((s, i) => s * reps[i]);
  const outStride = util.computeStrides(outShape);
  const fill = (d: number, src: number, dst: number): void => {
    if (d === rank - 1) h.copyWithin(dst, src, src + shape[d]);
    else for (let i = 0; i < shape[d]; i++) fill(d + 1, src + i * inStride[d], dst + i * outStride[d]);
    repeatBlock(h, dst, shape[d] * (d === rank - 1 ? 1 : outStride[d]), reps[d]);
  };
  fill(0, x, out);
}

/** Kernel function for `Tile`; `original` is tfjs' (string and complex dtypes, rank 0). */
export function makeTile(original: KernelFunc): KernelFunc {
  return ((args: TileArgs) => {
    const {
      inputs: { x },
      backend,
      attrs: { reps },
    } = args;
    const bytes = x.dtype === 'bool' ? 1 : x.dtype === 'float32' || x.dtype === 'int32' ? 4 : 0;
    if (!bytes || x.shape.length === 0 || reps.length !== x.shape.length) return original(args as never);
    return withScratch(backend, (s) => {
      const out = s.output(
        x.shape.map((d, i) => d * reps[i]),
        x.dtype,
      );
      if (util.sizeFromShape(out.shape) > 0) {
        const buf = backend.wasm.HEAPF32.buffer;
        if (bytes === 4) tileInto(new Float32Array(buf), f32Offset(backend, x), f32Offset(backend, out), x.shape, reps);
        else
          tileInto(
            new Uint8Array(buf),
            backend.dataIdMap.get(x.dataId).memoryOffset,
            backend.dataIdMap.get(out.dataId).memoryOffset,
            x.shape,
            reps,
          );
      }
      return out;
    });
  }) as unknown as KernelFunc;
}
