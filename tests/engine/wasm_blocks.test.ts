/**
 * Heap block moves (transpose, strided copy, accumulate) on the wasm heap: the SIMD module and the
 * JavaScript fallback both equal a plain reference, for aligned and ragged sizes and row strides.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import { heapF32, withScratch, type WasmBackend } from '../../lib/engine/wasm_kernels/heap.js';
import { addBlock, copyBlock, transposeBlock } from '../../lib/engine/wasm_kernels/blocks.js';
import { setSimdEnabled, simdFor } from '../../lib/engine/wasm_kernels/simd.js';

// these tests are about detrlab's own wasm kernels: keep the native ones (on by default) out of the way
process.env.DETRLAB_NATIVE_KERNELS = '0';

after(() => setSimdEnabled(true));

const SIZES: Array<[number, number, number]> = [
  [1, 9, 9],
  [5, 7, 9],
  [4, 4, 4],
  [16, 12, 12],
  [33, 65, 70],
  [130, 67, 67],
  [8, 200, 203],
]; // R, C, ld

test('the SIMD module instantiates on the wasm backend memory', async () => {
  await initEngine({ backend: 'wasm', log: null });
  assert.ok(simdFor(heapF32(tf.backend() as unknown as WasmBackend)), 'WebAssembly SIMD loops bound to the heap');
});

for (const simd of [true, false]) {
  test(`transposeBlock, copyBlock and addBlock equal a reference (${simd ? 'SIMD' : 'JavaScript'})`, async () => {
    await initEngine({ backend: 'wasm', log: null });
    setSimdEnabled(simd);
    const be = tf.backend() as unknown as WasmBackend;
    for (const [R, C, ld] of SIZES) {
      withScratch(be, (s) => {
        const src = s.alloc([R * ld]),
          t = s.alloc([R * C]),
          cp = s.alloc([R * C]),
          acc = s.alloc([R * ld]);
        let h = heapF32(be);
        for (let i = 0; i < R * ld; i++) {
          h[s.at(src) + i] = ((i * 7919) % 1000) - 500.5;
          h[s.at(acc) + i] = i;
        }
        transposeBlock(heapF32(be), s.at(src), ld, s.at(t), R, C);
        copyBlock(heapF32(be), s.at(src), ld, s.at(cp), C, R, C);
        addBlock(heapF32(be), s.at(cp), s.at(acc), ld, R, C);
        h = heapF32(be);
        for (let r = 0; r < R; r++) {
          for (let c = 0; c < C; c++) {
            const v = h[s.at(src) + r * ld + c];
            assert.equal(h[s.at(t) + c * R + r], v, `transpose R${R} C${C} ld${ld} at ${r},${c}`);
            assert.equal(h[s.at(cp) + r * C + c], v, `copy at ${r},${c}`);
            assert.equal(h[s.at(acc) + r * ld + c], Math.fround(r * ld + c + v), `add at ${r},${c}`);
          }
          for (let c = C; c < ld; c++)
            assert.equal(h[s.at(acc) + r * ld + c], r * ld + c, 'add leaves the stride gap alone');
        }
      });
    }
  });
}
