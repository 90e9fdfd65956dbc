/**
 * Data-parallel workers' gradient exchange on the wasm heap (lib/train/worker_train.ts).
 *
 * `sumRegionsWasm`: the sum of equal-length float32 regions of a buffer (data-parallel workers' gradients in a SharedArrayBuffer),
 * as a new tensor on the wasm heap: each region is copied in with one memcpy and added with the SIMD loop
 * (blocks.ts `addRun`), where a JavaScript loop reading the shared buffer costs ~6.6 ns per element. Regions are
 * added in the order given, each addition a float32 rounding, so the result is the JavaScript loop's bit for bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import { addRun } from './blocks.js';
import { f32Offset, heapF32, type WasmBackend } from './heap.js';

/** Σ src[start + i] over `starts`, i < size, shaped `shape`; undefined when the backend is not wasm. */
export function sumRegionsWasm(
  src: Float32Array,
  starts: number[],
  size: number,
  shape: number[],
): tf.Tensor | undefined {
  if (tf.getBackend() !== 'wasm' || starts.length === 0) return undefined;
  const be = tf.backend() as unknown as WasmBackend;
  const out = be.makeOutput(shape, 'float32');
  const tmp = starts.length > 1 ? be.makeOutput([size], 'float32') : undefined;
  const h = heapF32(be); // after the allocations, which may grow the heap
  const o = f32Offset(be, out);
  h.set(src.subarray(starts[0], starts[0] + size), o);
  if (tmp) {
    const t = f32Offset(be, tmp);
    for (const s of starts.slice(1)) {
      h.set(src.subarray(s, s + size), t);
      addRun(h, t, o, size);
    }
    be.disposeData(tmp.dataId);
  }
  return tf.engine().makeTensorFromTensorInfo(out);
}

/**
 * Copies a float32 tensor's values into `dst` at `at` straight from the wasm heap (one memcpy, no intermediate
 * array as `await t.data()` makes); false, with nothing copied, when the backend is not wasm.
 */
export function copyToBufferWasm(t: tf.Tensor, dst: Float32Array, at: number): boolean {
  if (tf.getBackend() !== 'wasm' || t.dtype !== 'float32') return false;
  const be = tf.backend() as unknown as WasmBackend;
  const o = f32Offset(be, t);
  dst.set(heapF32(be).subarray(o, o + t.size), at);
  return true;
}
