/**
 * Conv2D / FusedConv2D, Conv2DBackpropFilter and Conv2DBackpropInput on onnxruntime's MLAS (see conv_graphs.ts
 * for the formulations), each falling back to the wasm kernel for what it does not cover or where native was
 * measured slower. Plans are fixed rules of the shape (never timings), so a run on one machine is reproducible
 * (MLAS picks its kernels by CPU features, so another CPU may round differently, within float32 tolerance).
 *
 * Measured call by call for the conv shapes of the demo and DETR-R50 512² steps, 2 cores under load
 * (bench/kernels.ts `--native` gives the per-kernel totals of a step):
 * - forward: NCHW Conv wins where the output has many pixels next to the patch width (P > kh·kw·ci: early
 *   stages, large images), the NHWC patch Gemm where the patches are short and wide (late stages); a 1×1
 *   stride-1 conv is one Gemm, 1.5–3× faster than wasm's XNNPACK product from 256 input channels (ResNet-50's
 *   bottleneck convs) but no faster with 64–128 (wide outputs: the product is cheap next to writing it, and
 *   the binding copies every output once more), so those stay on wasm;
 * - filter gradient: patchesᵀ·dy beat the dilated-conv formulation 1.2–10× except for few input channels
 *   (the 7×7 stem on RGB: 49 three-channel slices), where the dilated conv wins;
 * - input gradient: ConvTranspose, except 1×1 stride 1 (dy·Wᵀ).
 */
import { type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { convGeometry, numel, withScratch } from '../wasm_kernels/heap.js';
import { convShape, isPointwise, numPixels, type ConvShape } from '../wasm_kernels/im2col.js';
import type { ConvArgs } from '../wasm_kernels/conv_forward.js';
import type { Conv2DBackpropFilterArgs } from '../wasm_kernels/conv_filter.js';
import type { Conv2DBackpropInputArgs } from '../wasm_kernels/conv_input.js';
import {
  filterGraph,
  forwardGraph,
  inputGraph,
  type Activation,
  type FilterGraphPlan,
  type ForwardGraphPlan,
  type InputGraphPlan,
} from './conv_graphs.js';
import { SessionCache } from './ort_sync.js';

/**
 * Below this many multiply-adds a conv stays on wasm. A native conv call costs 40–70 µs however small (binding,
 * feeds, the Transpose nodes, the output copy the binding makes); measured (bench/kernels.ts --native, 3×3 same,
 * busy machine): 2304 MACs wasm 11 µs / native 42, 147k 28 / 63, 590k 55 / 70, 2.4M 200 / 134.
 */
export const MIN_NATIVE_MACS = 1 << 20;
/** Input channels from which a 1×1 stride-1 forward conv goes native (one Gemm). */
const MIN_GEMM_POINTWISE_CHANNELS = 256;
/** Input channels below which the filter gradient uses the dilated-conv formulation. */
const MIN_GEMM_FILTER_CHANNELS = 16;

export const sessions = new SessionCache();

type Forced<P> = P | 'wasm' | null;
const forced: { forward: Forced<ForwardGraphPlan>; filter: Forced<FilterGraphPlan>; input: Forced<InputGraphPlan> } = {
  forward: null,
  filter: null,
  input: null,
};
/** Forces a plan for every supported case (tests compare all of them); null: by rule. */
export function setNativeConvPlan<K extends keyof typeof forced>(kind: K, plan: (typeof forced)[K]): void {
  forced[kind] = plan;
}

const macs = (g: ConvShape): number => numPixels(g) * g.KH * g.KW * g.Ci * g.Co;
const tooSmall = (g: ConvShape): boolean => macs(g) < MIN_NATIVE_MACS;

export function forwardPlan(g: ConvShape): ForwardGraphPlan | 'wasm' {
  if (forced.forward) return forced.forward;
  if (tooSmall(g)) return 'wasm';
  if (isPointwise(g)) return g.Ci >= MIN_GEMM_POINTWISE_CHANNELS ? 'gemm' : 'wasm';
  return numPixels(g) <= g.KH * g.KW * g.Ci ? 'gemm' : 'conv';
}
export function filterPlan(g: ConvShape): FilterGraphPlan | 'wasm' {
  if (forced.filter) return forced.filter;
  if (tooSmall(g)) return 'wasm';
  return g.Ci < MIN_GEMM_FILTER_CHANNELS && !isPointwise(g) ? 'conv' : 'gemm';
}
export function inputPlan(g: ConvShape): InputGraphPlan | 'wasm' {
  const p = forced.input ?? (tooSmall(g) ? 'wasm' : isPointwise(g) ? 'gemm' : 'convT');
  return p === 'gemm' && !isPointwise(g) ? 'convT' : p;
}

const key = (name: string, g: ConvShape, extra: string): string =>
  `${name}|${[g.B, g.H, g.W, g.Ci, g.Ho, g.Wo, g.Co, g.KH, g.KW, g.sh, g.sw, g.pt, g.pl, g.pb, g.pr].join(',')}|${extra}`;

const ACTIVATIONS: readonly string[] = ['linear', 'relu', 'relu6'] satisfies Activation[];
const float32 = (...ts: Array<TensorInfo | undefined>): boolean => ts.every((t) => !t || t.dtype === 'float32');
const nhwc = (a: { dataFormat?: string }): boolean => (a.dataFormat ?? 'NHWC') === 'NHWC';

/** Conv2D / FusedConv2D; `fallback` is the wasm kernel. */
export function makeNativeConvForward(fallback: KernelFunc): KernelFunc {
  return ((args: ConvArgs) => {
    const { inputs: i, attrs: a, backend } = args;
    const dil = a.dilations === undefined ? [1] : [a.dilations].flat();
    const act = a.activation ?? 'linear';
    if (
      !float32(i.x, i.filter, i.bias) ||
      !nhwc(a) ||
      dil.some((d) => d !== 1) ||
      i.preluActivationWeights ||
      !ACTIVATIONS.includes(act) ||
      (i.bias && (i.bias.shape.length !== 1 || i.bias.shape[0] !== i.filter.shape[3]))
    )
      return fallback(args as never);
    const g = convShape(convGeometry(i.x.shape, i.filter.shape, a));
    const plan = forwardPlan(g);
    if (plan === 'wasm' || numel([g.B, g.Ho, g.Wo, g.Co, g.Ci]) === 0) return fallback(args as never);
    const op = sessions.get(key(`fwd-${plan}`, g, `${act}${i.bias ? '+b' : ''}`), () =>
      forwardGraph(g, plan, !!i.bias, act as Activation),
    );
    return withScratch(backend, (s) => {
      const y = s.output([g.B, g.Ho, g.Wo, g.Co]);
      op.run(backend, i.bias ? { x: i.x, w: i.filter, b: i.bias } : { x: i.x, w: i.filter }, { y });
      return y;
    });
  }) as unknown as KernelFunc;
}

export function makeNativeConvFilter(fallback: KernelFunc): KernelFunc {
  return ((args: Conv2DBackpropFilterArgs) => {
    const { inputs: i, attrs: a, backend } = args;
    if (!i.x || !float32(i.x, i.dy) || !nhwc(a) || !a.filterShape) return fallback(args as never);
    const g = convShape(convGeometry(i.x.shape, a.filterShape, a));
    const plan = filterPlan(g);
    if (plan === 'wasm' || numel([g.B, g.Ho, g.Wo, g.Co, g.Ci]) === 0) return fallback(args as never);
    if (i.dy.shape.join() !== [g.B, g.Ho, g.Wo, g.Co].join()) return fallback(args as never); // its error
    const op = sessions.get(key(`dw-${plan}`, g, ''), () => filterGraph(g, plan));
    const x = i.x;
    return withScratch(backend, (s) => {
      const dw = s.output([g.KH, g.KW, g.Ci, g.Co]);
      op.run(backend, { x, dy: i.dy }, { dw });
      return dw;
    });
  }) as unknown as KernelFunc;
}

export function makeNativeConvInput(fallback: KernelFunc): KernelFunc {
  return ((args: Conv2DBackpropInputArgs) => {
    const { inputs: i, attrs: a, backend } = args;
    if (!i.filter || !float32(i.filter, i.dy) || !nhwc(a) || !a.inputShape) return fallback(args as never);
    const g = convShape(convGeometry(a.inputShape, i.filter.shape, a));
    const plan = inputPlan(g);
    if (plan === 'wasm' || numel([g.B, g.Ho, g.Wo, g.Co, g.Ci]) === 0) return fallback(args as never);
    if (i.dy.shape.join() !== [g.B, g.Ho, g.Wo, g.Co].join()) return fallback(args as never); // its error
    const op = sessions.get(key(`dx-${plan}`, g, ''), () => inputGraph(g, plan));
    const w = i.filter;
    return withScratch(backend, (s) => {
      const dx = s.output([g.B, g.H, g.W, g.Ci]);
      op.run(backend, { dy: i.dy, w }, { dx });
      return dx;
    });
  }) as unknown as KernelFunc;
}
