/**
 * Conv2D and FusedConv2D for the wasm backend: tfjs' XNNPACK convolution, or im2col + XNNPACK's fully
 * connected operator, whichever packs the filter more cheaply.
 *
 * Why: XNNPACK caches a packed filter per tensor id, so a repeated forward with unchanged weights costs
 * only arithmetic; but a training step's weights are new tensors every step (and DETR's backbone folds
 * frozen batch norm into them), and tfjs' conv packs a new filter at 9–25 ns per weight (a C transpose
 * plus XNNPACK's packing) — for ResNet-50's late stages at 224×224 that is 2–4× the convolution itself.
 * The fully connected operator packs the same [kh·kw·ci, co] matrix at 3–7 ns per weight, at the price
 * of an explicit im2col copy of the activations (~0.5 ns per element; none for 1×1 stride-1 convs);
 * and where the filter dwarfs the activations (late stages, small images) the product can be turned
 * around so that the activations are packed instead.
 */
import { type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import {
  CLAMP_ACTIVATIONS,
  convGeometry,
  fcRaw,
  heapF32,
  numel,
  withScratch,
  type ClampActivation,
  type WasmBackend,
} from './heap.js';
import { convShape, im2col, isPointwise, numPixels, type ConvShape } from './im2col.js';
import { gemmTiled } from './gemm.js';
import { COST_NS } from './costs.js';
import { transposeBlock } from './blocks.js';

/**
 * 'conv': tfjs' XNNPACK convolution; 'gemm': im2col · W through the fully connected operator (W packed
 * under its own id, so cached like the conv's); 'gemmT': outᵀ = Wᵀ · Pᵀ (W transposed, the patches
 * packed: cheapest for a new filter much larger than the activations, never cached).
 */
export type ForwardPlan = 'conv' | 'gemm' | 'gemmT';
const seen = new WeakMap<object, ForwardPlan>();
let forced: ForwardPlan | null = null;
/** Forces one way (tests and the benchmark compare them); null: by cost, see `forwardPlan`. */
export function setForwardPlan(plan: ForwardPlan | null): void {
  forced = plan;
}

/** Packing and data movement (ns) of each plan for a filter XNNPACK has not packed yet. */
function freshCosts(g: ConvShape): Record<ForwardPlan, number> {
  const rows = g.KH * g.KW * g.Ci,
    w = rows * g.Co,
    patches = numPixels(g) * rows;
  const im2col = isPointwise(g) ? 0 : COST_NS.im2col * patches;
  return {
    conv: COST_NS.convPack * w,
    gemm: im2col + COST_NS.fcPack * w,
    gemmT: COST_NS.transpose * (w + patches + numPixels(g) * g.Co) + im2col + COST_NS.fcPack * patches,
  };
}

/**
 * The first call with a filter tensor takes the plan cheapest for a new filter; later calls with the
 * same tensor (inference, frozen layers) keep a cached plan ('gemmT' caches nothing, so they move to
 * 'conv', or 'gemm' for 1×1 where both are the same product).
 */
function forwardPlan(g: ConvShape, filter: TensorInfo): ForwardPlan {
  if (forced) return forced;
  const prev = seen.get(filter.dataId);
  let plan: ForwardPlan;
  if (prev === undefined) {
    const c = freshCosts(g);
    plan = (Object.keys(c) as ForwardPlan[]).reduce((a, b) => (c[b] < c[a] ? b : a));
  } else {
    plan = prev !== 'gemmT' ? prev : isPointwise(g) ? 'gemm' : 'conv';
  }
  seen.set(filter.dataId, plan);
  return plan;
}

export interface ConvArgs {
  inputs: { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  backend: WasmBackend;
  attrs: {
    strides: number | [number, number];
    pad: unknown;
    dataFormat?: string;
    dilations?: number | [number, number];
    dimRoundingMode?: string;
    activation?: string;
  };
}

/** The cases the gemm path handles; anything else goes to tfjs' kernel. */
function supported(a: ConvArgs): boolean {
  const { inputs: i, attrs: t } = a;
  const dil = t.dilations === undefined ? [1] : [t.dilations].flat();
  return (
    i.x.dtype === 'float32' &&
    (t.dataFormat ?? 'NHWC') === 'NHWC' &&
    dil.every((d) => d === 1) &&
    !i.preluActivationWeights &&
    (t.activation ?? 'linear') in CLAMP_ACTIVATIONS &&
    (!i.bias || (i.bias.shape.length === 1 && i.bias.shape[0] === i.filter.shape[3]))
  );
}

function convViaGemm(args: ConvArgs, g: ConvShape, plan: 'gemm' | 'gemmT'): TensorInfo {
  const {
    inputs: { x, filter, bias },
    backend,
  } = args;
  const act = (args.attrs.activation ?? 'linear') as ClampActivation;
  return withScratch(backend, (s) => {
    const out = s.output([g.B, g.Ho, g.Wo, g.Co]); // [B, Ho, Wo, co]
    const P = numPixels(g),
      rows = g.KH * g.KW * g.Ci;
    if (P === 0) return out;
    let patches = x; // [B·Ho·Wo, kh·kw·ci]
    if (!isPointwise(g)) {
      patches = s.alloc([P, rows]);
      im2col(heapF32(s.be), g, s.at(x), s.at(patches));
    }
    if (plan === 'gemm') {
      fcRaw(s, patches, filter, out, P, rows, g.Co, bias ?? null, act);
      return out;
    }
    const wT = s.alloc([g.Co, rows]),
      pT = s.alloc([rows, P]),
      outT = s.alloc([g.Co, P]);
    transposeBlock(heapF32(s.be), s.at(filter), g.Co, s.at(wT), rows, g.Co); // Wᵀ [co, rows]
    transposeBlock(heapF32(s.be), s.at(patches), rows, s.at(pT), P, rows); // Pᵀ [rows, P]
    gemmTiled(s, { at: s.at(wT), t: false }, { at: s.at(pT), t: false }, s.at(outT), g.Co, rows, P);
    transposeBlock(heapF32(s.be), s.at(outT), P, s.at(out), g.Co, P);
    biasActivation(heapF32(s.be), s.at(out), P, g.Co, bias ? s.at(bias) : -1, act);
    return out;
  });
}

/** y[p, c] = act(y[p, c] + bias[c]) in place (bias index -1: none). */
function biasActivation(h: Float32Array, y: number, P: number, C: number, bias: number, act: ClampActivation): void {
  if (bias < 0 && act === 'linear') return;
  const hi = act === 'relu6' ? 6 : Infinity,
    lo = act === 'linear' ? -Infinity : 0;
  for (let p = 0; p < P; p++) {
    const row = y + p * C;
    for (let c = 0; c < C; c++) h[row + c] = Math.min(hi, Math.max(lo, h[row + c] + (bias < 0 ? 0 : h[bias + c])));
  }
}

/** Kernel function for Conv2D or FusedConv2D; `original` is tfjs' own (the 'conv' plan and fallbacks). */
export function makeConvForward(original: KernelFunc): KernelFunc {
  return ((args: ConvArgs) => {
    if (!supported(args)) return original(args as never);
    const g = convShape(convGeometry(args.inputs.x.shape, args.inputs.filter.shape, args.attrs));
    const plan = numel(args.inputs.filter.shape) === 0 ? 'conv' : forwardPlan(g, args.inputs.filter);
    return plan === 'conv' ? original(args as never) : convViaGemm(args, g, plan);
  }) as unknown as KernelFunc;
}
