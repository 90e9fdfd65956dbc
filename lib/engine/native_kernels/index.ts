/**
 * Native kernels for the wasm backend: convolutions (forward, input and filter gradients) and BatchMatMul run on
 * onnxruntime-node's CPU kernels (MLAS, AVX2/AVX-512) through cached single-node ONNX sessions, on tensors read
 * from and written to the wasm heap in place (ort_sync.ts). Each wraps the wasm kernel registered before it
 * (detrlab's, wasm_kernels/) and hands it every case it does not cover or where native measured slower.
 *
 * On by default: the engine registers them unless DETRLAB_NATIVE_KERNELS=0 (backend.ts); `setNativeKernels(false)`
 * sends every call back to the wasm kernels (benchmarks and tests compare both in one process).
 * Register after `registerWasmTrainingKernels`; idempotent.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { makeNativeConvFilter, makeNativeConvForward, makeNativeConvInput, sessions } from './conv.js';
import { makeNativeBatchMatMul } from './matmul.js';
import { loadOrt } from './ort_sync.js';

export { setNativeConvPlan, MIN_NATIVE_MACS } from './conv.js';
export { setNativeMatMul } from './matmul.js';
export { loadOrt, nativeRunCount } from './ort_sync.js';

export { NATIVE_KERNELS_ENV, nativeKernelsRequested } from './switch.js';

const MARK = 'detrlabNativeKernel';
type Marked = KernelConfig & { [MARK]?: true };

const WRAPPERS: Array<{ name: string; make(fallback: KernelFunc): KernelFunc }> = [
  { name: 'Conv2D', make: makeNativeConvForward },
  { name: 'FusedConv2D', make: makeNativeConvForward },
  { name: 'Conv2DBackpropFilter', make: makeNativeConvFilter },
  { name: 'Conv2DBackpropInput', make: makeNativeConvInput },
  { name: 'BatchMatMul', make: makeNativeBatchMatMul },
];
export const NATIVE_KERNELS: readonly string[] = WRAPPERS.map((w) => w.name);

let enabled = false;
/** Turns the registered native kernels on or off (off: each call goes to the wasm kernel it wraps). */
export function setNativeKernels(on: boolean): void {
  enabled = on;
}
export const nativeKernelsActive = (): boolean => enabled;

/**
 * Wraps the wasm kernels with native ones and turns them on; `ok: false` (nothing registered) when
 * onnxruntime-node cannot load or the wasm backend is not loaded.
 */
export function registerNativeKernels(): { ok: true; detail: string } | { ok: false; detail: string } {
  const ort = loadOrt();
  if (!ort.ok) return ort;
  for (const w of WRAPPERS) {
    const existing = getKernel(w.name, 'wasm') as Marked | undefined;
    if (!existing) return { ok: false, detail: `the wasm backend has no ${w.name} kernel (load it first)` };
    if (existing[MARK]) continue;
    const inner = existing.kernelFunc;
    const native = w.make(inner);
    unregisterKernel(w.name, 'wasm');
    registerKernel({
      ...existing,
      kernelFunc: ((args: never) => (enabled ? native(args) : inner(args))) as KernelFunc,
      [MARK]: true,
    } as Marked);
  }
  enabled = true;
  return { ok: true, detail: `native kernels (onnxruntime-node MLAS): ${NATIVE_KERNELS.join(', ')}` };
}

/** Sessions built so far and drops them all (benchmarks; the next calls rebuild them). */
export function nativeSessionStats(): { built: number } {
  return { built: sessions.built };
}
export function clearNativeSessions(): void {
  sessions.clear();
}
