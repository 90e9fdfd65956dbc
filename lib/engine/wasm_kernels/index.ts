/**
 * Kernels that make tfjs' wasm backend able to train a ResNet + transformer at XNNPACK speed:
 * - Conv2DBackpropFilter (missing in tfjs-backend-wasm 4.22),
 * - Conv2DBackpropInput and BatchMatMul (replace slow scalar C loops),
 * - Conv2D and FusedConv2D (tfjs' XNNPACK conv, or im2col + fully connected where that packs a new
 *   filter more cheaply: see conv_forward.ts),
 * - Identity (behind tf.clone and every tensor a gradient saves) sharing memory instead of copying,
 * - MaxPoolGrad (tfjs' takes ~70 ns per element) and Sum over leading axes (bias gradients; tfjs'
 *   transposes first), Tile (behind broadcastTo; tfjs' computes every element's source index),
 * - small kernels that gradients of common ops need and the wasm backend lacks (see extra_kernels.ts).
 * Registered for backend 'wasm' only. Call after @tensorflow/tfjs-backend-wasm has been loaded (its
 * import registers the kernels these replace); idempotent, also across copies of this module.
 */
export { setGemmLimits, gemmLimits } from './gemm.js';
export { setInputGradPlan } from './conv_input.js';
export { setForwardPlan } from './conv_forward.js';
import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { makeBatchMatMul } from './matmul.js';
import { conv2DBackpropFilterKernel } from './conv_filter.js';
import { conv2DBackpropInputKernel } from './conv_input.js';
import { identityShareKernel, unsortedSegmentSumKernel } from './extra_kernels.js';
import { makeConvForward } from './conv_forward.js';
import { maxPoolGradKernel } from './pool_grad.js';
import { makeSum } from './sum_leading.js';
import { makeTile } from './tile.js';

const MARK = 'detrlabWasmKernel';
type Marked = KernelConfig & { [MARK]?: true };

interface Replacement {
  name: string;
  /** Builds the kernel; receives tfjs' own wasm kernel when there is one (for fallbacks). */
  make(original: KernelFunc | undefined): KernelFunc;
}

const REPLACEMENTS: Replacement[] = [
  { name: 'Conv2D', make: (orig) => makeConvForward(orig ?? unsupported('Conv2D')) },
  { name: 'FusedConv2D', make: (orig) => makeConvForward(orig ?? unsupported('FusedConv2D')) },
  { name: 'BatchMatMul', make: (orig) => makeBatchMatMul(orig ?? unsupported('BatchMatMul')) },
  { name: 'Conv2DBackpropFilter', make: () => conv2DBackpropFilterKernel },
  { name: 'Conv2DBackpropInput', make: () => conv2DBackpropInputKernel },
  { name: 'UnsortedSegmentSum', make: () => unsortedSegmentSumKernel },
  { name: 'MaxPoolGrad', make: () => maxPoolGradKernel },
  { name: 'Sum', make: (orig) => makeSum(orig ?? unsupported('Sum')) },
  { name: 'Tile', make: (orig) => makeTile(orig ?? unsupported('Tile')) },
  { name: 'Identity', make: (orig) => identityShareKernel(orig ?? unsupported('Identity')) },
];

function unsupported(name: string): KernelFunc {
  return (() => {
    throw new Error(`${name}: case not supported by detrlab's wasm kernel`);
  }) as KernelFunc;
}

/** Names of the kernels detrlab provides for the wasm backend. */
export const WASM_TRAINING_KERNELS: readonly string[] = REPLACEMENTS.map((r) => r.name);

let registered = false;
/** tfjs' own wasm kernels that detrlab's replaced (for `withTfjsWasmKernels`). */
const originals = new Map<string, KernelConfig>();

export function registerWasmTrainingKernels(): void {
  if (registered) return;
  if (!getKernel('Conv2D', 'wasm'))
    throw new Error('registerWasmTrainingKernels: load @tensorflow/tfjs-backend-wasm first');
  for (const r of REPLACEMENTS) {
    const existing = getKernel(r.name, 'wasm') as Marked | undefined;
    if (existing?.[MARK]) continue;
    if (existing) {
      originals.set(r.name, existing);
      unregisterKernel(r.name, 'wasm');
    }
    // tfjs' kernel stays reachable as a fallback, so its setup (cwrap of its C entry point, run when the
    // backend initialises) must stay registered with ours.
    const config: Marked = {
      kernelName: r.name,
      backendName: 'wasm',
      kernelFunc: r.make(existing?.kernelFunc),
      setupFunc: existing?.setupFunc,
      disposeFunc: existing?.disposeFunc,
      [MARK]: true,
    };
    registerKernel(config);
  }
  registered = true;
}

/**
 * Runs `fn` with tfjs' own wasm kernels in place of detrlab's for `names` (those tfjs has), then puts
 * detrlab's back (when `fn`'s promise settles, if it returns one). For benchmarks that report
 * before/after figures; nothing else should run meanwhile.
 */
export function withTfjsWasmKernels<T>(names: readonly string[], fn: () => T): T {
  const swapped: KernelConfig[] = [];
  for (const name of names) {
    const orig = originals.get(name),
      mine = getKernel(name, 'wasm');
    if (!orig || !mine) continue;
    unregisterKernel(name, 'wasm');
    registerKernel(orig);
    swapped.push(mine);
  }
  const restore = (): void => {
    for (const mine of swapped) {
      unregisterKernel(mine.kernelName, 'wasm');
      registerKernel(mine);
    }
  };
  let result: T;
  try {
    result = fn();
  } catch (e) {
    restore();
    throw e;
  }
  if (result instanceof Promise) return result.finally(restore) as T; // async fn: restore when it settles
  restore();
  return result;
}

/** Names of the kernels detrlab replaced that tfjs-backend-wasm also has. */
export const replacedTfjsWasmKernels = (): string[] => [...originals.keys()];
