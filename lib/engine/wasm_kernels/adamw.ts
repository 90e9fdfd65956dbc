/**
 * One AdamW update of one parameter in a single pass over the tfjs wasm backend's heap.
 *
 * The per-op form in lib/train/optimizer.ts (torch.optim.AdamW's formula, see there) costs about 12 tfjs
 * ops per parameter tensor, each a dispatch, an allocation and a pass over memory (`npm run bench -- optimizer`:
 * 37 ms per update of the demo DETR, 295 ms of DETR-R50; this form 5.9 and 91 ms). This loop reads p, m, v and g
 * once, writes m and v in place and the new p into a new buffer: in WebAssembly SIMD (simd.ts `adamw`,
 * 4 lanes) where available, the last n mod 4 elements (or all, without SIMD) in JavaScript.
 *
 * Bit for bit the per-op form: every operation is rounded to float32 (`Math.fround`) exactly where a tfjs
 * op rounds its result, and scalars are rounded to float32 as `tf.scalar` would. Products, sums, quotients
 * and square roots of float32 values computed in float64 and then rounded once are correctly rounded
 * float32 results (float64 has more than 2·24 + 2 significand bits), which is what the wasm backend's
 * XNNPACK and C kernels compute. tests/train/optimizer_fused.test.ts checks the equality.
 *
 * Why p is not updated in place: tfjs' wasm convolutions cache XNNPACK operators with the filter packed,
 * keyed by the filter tensor's id, so a weight must get new memory (a new id) when its values change.
 * The moments are the optimizer's own variables, never a kernel's cached operand, and are written in place
 * when nothing else shares their memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import { heapF32, numel, type WasmBackend } from './heap.js';
import { simdFor } from './simd.js';

/** The update's scalars, as the per-op form passes them (each becomes a float32 scalar there). */
export interface AdamWScalars {
  beta1: number;
  beta2: number;
  eps: number;
  /** √(1 − β2ᵗ) */
  bc2Sqrt: number;
  /** lr / (1 − β1ᵗ) */
  stepSize: number;
  /** 1 − lr·wd, or undefined when wd = 0 (the per-op form skips the multiply then). */
  decay: number | undefined;
  /** Gradient-clipping coefficient (1 = none): g·scale as `tf.mul(g, scale)` computes it. */
  gradScale: number;
}

const f = Math.fround;

/** Memory record of a float32 tensor held by the wasm backend, or undefined. */
function record(be: WasmBackend, t: tf.Tensor): { memoryOffset: number; refCount: number } | undefined {
  if (t.dtype !== 'float32') return undefined;
  return be.dataIdMap.get(t.dataId) as { memoryOffset: number; refCount: number } | undefined;
}

/**
 * The new value of `p` (a new tensor; the caller assigns it), with `m` and `v` updated in place. Undefined,
 * with nothing changed, when this path does not apply: another backend, non-float32 tensors, or moments
 * whose memory is shared with another tensor. The caller then uses the per-op form.
 */
export function adamWUpdateWasm(
  p: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  g: tf.Tensor,
  s: AdamWScalars,
): tf.Tensor | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const be = tf.backend() as unknown as WasmBackend;
  const rp = record(be, p),
    rm = record(be, m),
    rv = record(be, v),
    rg = record(be, g);
  if (!rp || !rm || !rv || !rg || rm.refCount !== 1 || rv.refCount !== 1) return undefined;
  const n = numel(p.shape);
  if (numel(m.shape) !== n || numel(v.shape) !== n || numel(g.shape) !== n) return undefined;
  const out = be.makeOutput([...p.shape], 'float32');
  // The allocation may have grown the heap: offsets and the view are taken after it.
  const h = heapF32(be);
  const P = rp.memoryOffset >>> 2,
    M = rm.memoryOffset >>> 2,
    V = rv.memoryOffset >>> 2,
    G = rg.memoryOffset >>> 2,
    O = be.dataIdMap.get(out.dataId).memoryOffset >>> 2;
  // Multiplying by 1 changes no float32 value, so "no scale" and "no decay" are a scale or decay of 1.
  const b1 = f(s.beta1),
    c1 = f(1 - s.beta1),
    b2 = f(s.beta2),
    c2 = f(1 - s.beta2),
    bc2 = f(s.bc2Sqrt),
    eps = f(s.eps),
    step = f(s.stepSize),
    scale = f(s.gradScale),
    decay = s.decay === undefined ? 1 : f(s.decay);
  const simd = simdFor(h);
  let i = 0;
  if (simd) {
    simd.adamw(4 * P, 4 * M, 4 * V, 4 * G, 4 * O, n, b1, c1, b2, c2, bc2, eps, step, scale, decay);
    i = n & ~3;
  }
  for (; i < n; i++) {
    const gi = f(h[G + i] * scale);
    const mi = f(f(h[M + i] * b1) + f(gi * c1));
    const vi = f(f(h[V + i] * b2) + f(f(gi * gi) * c2));
    const denom = f(f(f(Math.sqrt(vi)) / bc2) + eps);
    h[M + i] = mi;
    h[V + i] = vi;
    h[O + i] = f(h[P + i] * decay) - f(f(mi / denom) * step); // the store rounds to float32
  }
  return tf.engine().makeTensorFromTensorInfo(out);
}
