/**
 * Conv2DBackpropInput for the wasm backend (tfjs' own is a scalar C loop, 1.5–2 GFLOP/s). Two ways:
 *
 * 'phases' — dx as forward XNNPACK convolutions. With stride s, dx splits into s×s phases
 *   (dx[s·j + py, s·i + px]); phase (py, px) is a stride-1 correlation of dy with the filter taps k for
 *   which (py + pad − k) is a multiple of s, reversed and with in/out channels swapped. This does the
 *   exact arithmetic of the forward conv (no zero-dilated dy: stride 2 would waste 3/4), then scatters
 *   each phase into dx. Cost beyond arithmetic: the filter transform and XNNPACK's packing of it.
 * 'gemm' — cols[p, (i,j,c)] = dy[p, :] · W[(i,j,c), :]ᵀ (gemm.ts), then dx = col2im(cols); for a 1×1
 *   stride-1 unpadded conv cols is dx. Cost: transposes/packing of dy or W, plus the col2im sum.
 * The plan picks the cheaper by a data-movement cost model: 'phases' where the filter is small next to
 * the activations (early ResNet stages, large images), 'gemm' where it is large (late stages, 1×1).
 */
import { util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { conv2dRaw, convGeometry, heapF32, numel, withScratch, type Scratch, type WasmBackend } from './heap.js';
import { matmul2d, matmulOverheadNs } from './gemm.js';
import { COST_NS } from './costs.js';
import { col2imAdd, convShape, isPointwise, numPixels, type ConvShape } from './im2col.js';
import { copyBlock, transposeBlock } from './blocks.js';

/** XNNPACK convolutions with few output channels (a phase conv outputs ci) run far below peak. */
const MIN_PHASE_CHANNELS = 16;

export type InputGradPlan = 'phases' | 'gemm';
let forced: InputGradPlan | null = null;
/** Forces one way for every non-1×1 case (tests and the benchmark compare them); null: by cost. */
export function setInputGradPlan(plan: InputGradPlan | null): void {
  forced = plan;
}

export function inputGradPlan(g: ConvShape): InputGradPlan {
  if (isPointwise(g)) return 'gemm';
  if (forced) return forced;
  if (g.Ci < MIN_PHASE_CHANNELS) return 'gemm';
  const P = numPixels(g),
    rows = g.KH * g.KW * g.Ci;
  const phases =
    (COST_NS.transpose + COST_NS.convPack) * rows * g.Co +
    (g.sh * g.sw > 1 ? COST_NS.col2im * g.B * g.H * g.W * g.Ci : 0);
  const gemm = matmulOverheadNs(P, g.Co, rows, false, true) + COST_NS.col2im * P * rows;
  return phases <= gemm ? 'phases' : 'gemm';
}

function viaGemm(s: Scratch, g: ConvShape, dy: TensorInfo, filter: TensorInfo, dx: TensorInfo): void {
  const P = numPixels(g),
    rows = g.KH * g.KW * g.Ci;
  if (isPointwise(g)) {
    matmul2d(s, { at: s.at(dy), t: false }, { at: s.at(filter), t: true }, s.at(dx), P, g.Co, rows);
    return;
  }
  const cols = s.alloc([P, rows]); // [B·Ho·Wo, kh·kw·ci]
  matmul2d(s, { at: s.at(dy), t: false }, { at: s.at(filter), t: true }, s.at(cols), P, g.Co, rows);
  s.zero(dx);
  col2imAdd(heapF32(s.be), g, s.at(cols), s.at(dx));
  s.free(cols);
}

const mod = (a: number, n: number): number => ((a % n) + n) % n;
/** Filter taps of one phase, ordered by increasing dy offset (offset of taps[t] = first + t). */
function phaseTaps(K: number, stride: number, pad: number, phase: number): { taps: number[]; first: number } {
  const taps: number[] = [];
  for (let k = K - 1; k >= 0; k--) if (mod(phase + pad - k, stride) === 0) taps.push(k);
  return { taps, first: taps.length ? (phase + pad - taps[0]) / stride : 0 };
}

/** Conv padding along one axis that yields `n` phase outputs starting at dy offset `first`. */
function axisPlan(
  n: number,
  nTaps: number,
  first: number,
  dyLen: number,
): { before: number; after: number; len: number; skip: number } {
  const before = -first,
    after = n + nTaps - 1 - before - dyLen;
  const b = Math.max(0, before),
    a = Math.max(0, after);
  return { before: b, after: a, len: dyLen + b + a - nTaps + 1, skip: b - before };
}

function viaPhases(s: Scratch, g: ConvShape, dy: TensorInfo, filter: TensorInfo, dx: TensorInfo): void {
  const phases = [];
  for (let py = 0; py < Math.min(g.sh, g.H); py++) {
    for (let px = 0; px < Math.min(g.sw, g.W); px++)
      phases.push({ py, px, th: phaseTaps(g.KH, g.sh, g.pt, py), tw: phaseTaps(g.KW, g.sw, g.pl, px) });
  }
  if (phases.some((p) => !p.th.taps.length || !p.tw.taps.length)) s.zero(dx);
  for (const { py, px, th, tw } of phases) {
    if (!th.taps.length || !tw.taps.length) continue;
    const nh = Math.ceil((g.H - py) / g.sh),
      nw = Math.ceil((g.W - px) / g.sw);
    const ah = axisPlan(nh, th.taps.length, th.first, g.Ho),
      aw = axisPlan(nw, tw.taps.length, tw.first, g.Wo);
    const f = s.alloc([th.taps.length, tw.taps.length, g.Co, g.Ci]); // [th, tw, co, ci]
    const h = heapF32(s.be);
    th.taps.forEach((kh, a) =>
      tw.taps.forEach((kw, b) => {
        transposeBlock(
          h,
          s.at(filter) + (kh * g.KW + kw) * g.Ci * g.Co,
          g.Co,
          s.at(f) + (a * tw.taps.length + b) * g.Co * g.Ci,
          g.Ci,
          g.Co,
        );
      }),
    );
    const inPlace = g.sh === 1 && g.sw === 1 && ah.skip === 0 && aw.skip === 0 && ah.len === g.H && aw.len === g.W;
    const out = inPlace ? dx : s.alloc([g.B, ah.len, aw.len, g.Ci]); // [B, hc, wc, ci]
    conv2dRaw(s, dy, f, out, { top: ah.before, bottom: ah.after, left: aw.before, right: aw.after }, [1, 1]);
    s.free(f);
    if (out === dx) continue;
    scatterPhase(
      heapF32(s.be),
      g,
      s.at(out),
      { rows: ah.len, cols: aw.len, skipH: ah.skip, skipW: aw.skip, nh, nw, py, px },
      s.at(dx),
    );
    s.free(out);
  }
}

interface PhaseLayout {
  rows: number;
  cols: number;
  skipH: number;
  skipW: number;
  nh: number;
  nw: number;
  py: number;
  px: number;
}
/** dx[b, py + sh·j, px + sw·i, :] = phase[b, skipH + j, skipW + i, :]. */
function scatterPhase(h: Float32Array, g: ConvShape, phase: number, l: PhaseLayout, dx: number): void {
  const C = g.Ci;
  for (let b = 0; b < g.B; b++) {
    for (let j = 0; j < l.nh; j++) {
      const src = phase + ((b * l.rows + l.skipH + j) * l.cols + l.skipW) * C;
      const dst = dx + ((b * g.H + l.py + g.sh * j) * g.W + l.px) * C;
      if (g.sw === 1) h.copyWithin(dst, src, src + l.nw * C);
      else copyBlock(h, src, C, dst, g.sw * C, l.nw, C);
    }
  }
}

export interface Conv2DBackpropInputArgs {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: WasmBackend;
  attrs: {
    strides: number | [number, number];
    pad: unknown;
    dataFormat?: string;
    dimRoundingMode?: string;
    inputShape: number[];
  };
}

function conv2DBackpropInput(args: Conv2DBackpropInputArgs): TensorInfo {
  const {
    inputs: { dy, filter },
    backend,
    attrs,
  } = args;
  const g = convShape(convGeometry(attrs.inputShape, filter.shape, attrs));
  const want = [g.B, g.Ho, g.Wo, g.Co];
  util.assert(
    dy.shape.join() === want.join(),
    () => `Conv2DBackpropInput: dy shape [${dy.shape}] does not match the conv output [${want}]`,
  );
  return withScratch(backend, (s) => {
    const dx = s.output([g.B, g.H, g.W, g.Ci]); // [B, H, W, ci]
    if (numel(dx.shape) === 0) return dx;
    if (numPixels(g) === 0 || g.Co === 0) {
      s.zero(dx);
      return dx;
    }
    if (inputGradPlan(g) === 'gemm') viaGemm(s, g, dy, filter, dx);
    else viaPhases(s, g, dy, filter, dx);
    return dx;
  });
}

export const conv2DBackpropInputKernel = conv2DBackpropInput as unknown as KernelFunc;
