/**
 * Single-node-style ONNX graphs for NHWC convolutions and their gradients (tfjs layouts in and out:
 * x [B,H,W,ci], filter [kh,kw,ci,co], y/dy [B,Ho,Wo,co]). ONNX Conv is NCHW only, so each graph either
 * transposes around an NCHW Conv/ConvTranspose ('conv' plans; onnxruntime's Transpose is a native copy),
 * or gathers the patches in NHWC with strided Slices and runs one Gemm ('gemm' plans: no layout change at
 * all, since [B·Ho·Wo, kh·kw·ci] patches times [kh·kw·ci, co] is the tfjs layout on both sides).
 *
 * Padding: only the input rows (columns) some output window reads count: the first `hr = min(H, (Ho−1)·s + k − pt)`
 * (fewer than H where tfjs' pads or rounding leave trailing rows unread; tfjs' numeric pads even size the width by
 * the filter height and stride, conv_util.ts `computeConv2DInfo`). Graphs pad `pt` before and exactly what the
 * last window needs after (`(Ho−1)·s + k − hr − pt` ≥ 0) and crop x to hr rows, so ONNX's floor rounding gives
 * tfjs' output shape; zero padding that tfjs has beyond that is never read, so results are equal.
 */
import { attr, GraphBuilder } from '../../synth/onnx/graph_builder.js';
import { isPointwise, type ConvShape } from '../wasm_kernels/im2col.js';

export type Activation = 'linear' | 'relu' | 'relu6';
const perm = (p: number[]) => ({ perm: attr.ints(p) });

/** Rows/columns of x that some window reads, and the padding after them that the last window needs. */
export function extent(g: ConvShape): { hr: number; wr: number; pb: number; pr: number } {
  const hr = Math.min(g.H, (g.Ho - 1) * g.sh + g.KH - g.pt),
    wr = Math.min(g.W, (g.Wo - 1) * g.sw + g.KW - g.pl);
  return { hr, wr, pb: (g.Ho - 1) * g.sh + g.KH - hr - g.pt, pr: (g.Wo - 1) * g.sw + g.KW - wr - g.pl };
}
const onnxPads = (g: ConvShape): number[] => {
  const t = extent(g);
  return [g.pt, g.pl, t.pb, t.pr];
};
/** x [B,H,W,c] cropped to the rows and columns that are read. */
function cropRead(b: GraphBuilder, x: string, g: ConvShape): string {
  const { hr, wr } = extent(g);
  return hr < g.H || wr < g.W ? b.op('Slice', [x, b.i64([0, 0]), b.i64([hr, wr]), b.i64([1, 2])]) : x;
}

/** Patches [B·Ho·Wo, kh·kw·ci] of NHWC `x`, ordered (i, j, c) as tfjs' filter rows. */
function patches(b: GraphBuilder, x: string, g: ConvShape): string {
  const rows = g.KH * g.KW * g.Ci;
  if (isPointwise(g)) return b.op('Reshape', [x, b.i64([g.B * g.H * g.W, g.Ci])]);
  const { pb, pr } = extent(g);
  const xp = g.pt || g.pl || pb || pr ? b.op('Pad', [x, b.i64([0, g.pt, g.pl, 0, 0, pb, pr, 0])]) : x;
  const taps: string[] = [];
  for (let i = 0; i < g.KH; i++) {
    for (let j = 0; j < g.KW; j++) {
      const ends = [i + (g.Ho - 1) * g.sh + 1, j + (g.Wo - 1) * g.sw + 1];
      taps.push(b.op('Slice', [xp, b.i64([i, j]), b.i64(ends), b.i64([1, 2]), b.i64([g.sh, g.sw])]));
    }
  }
  const cat = taps.length === 1 ? taps[0] : b.op('Concat', taps, { axis: attr.int(3) });
  return b.op('Reshape', [cat, b.i64([g.B * g.Ho * g.Wo, rows])]);
}

function activation(b: GraphBuilder, y: string, act: Activation): string {
  if (act === 'relu') return b.op('Relu', [y]);
  if (act === 'relu6') return b.op('Clip', [y, b.f32([0], []), b.f32([6], [])]);
  return y;
}

export type ForwardGraphPlan = 'conv' | 'gemm';
/** y = act(conv(x, filter) + bias): inputs x, w (and b), output y. */
export function forwardGraph(g: ConvShape, plan: ForwardGraphPlan, bias: boolean, act: Activation): Uint8Array {
  const b = new GraphBuilder('conv2d');
  const x = b.input('x', 'float', [g.B, g.H, g.W, g.Ci]),
    w = b.input('w', 'float', [g.KH, g.KW, g.Ci, g.Co]);
  const bi = bias ? b.input('b', 'float', [g.Co]) : null;
  let y: string;
  if (plan === 'gemm') {
    const wm = b.op('Reshape', [w, b.i64([g.KH * g.KW * g.Ci, g.Co])]);
    const m = b.op('Gemm', bi ? [patches(b, x, g), wm, bi] : [patches(b, x, g), wm]);
    y = b.op('Reshape', [activation(b, m, act), b.i64([g.B, g.Ho, g.Wo, g.Co])]);
  } else {
    const xc = b.op('Transpose', [cropRead(b, x, g)], perm([0, 3, 1, 2])),
      wc = b.op('Transpose', [w], perm([3, 2, 0, 1])); // [co, ci, kh, kw]
    const c = b.op('Conv', bi ? [xc, wc, bi] : [xc, wc], {
      pads: attr.ints(onnxPads(g)),
      strides: attr.ints([g.sh, g.sw]),
      kernel_shape: attr.ints([g.KH, g.KW]),
    });
    y = b.op('Transpose', [activation(b, c, act)], perm([0, 2, 3, 1]));
  }
  b.output('y', 'float', [g.B, g.Ho, g.Wo, g.Co], y);
  return b.toBytes();
}

export type FilterGraphPlan = 'conv' | 'gemm';
/**
 * dW [kh,kw,ci,co] from x and dy. 'gemm': patchesᵀ · dy. 'conv': a forward conv of x as [ci, B, H, W] with dy
 * as the filter [co, B, Ho, Wo], dilated by the stride, over the forward pads; its [ci, co, kh, kw] output is
 * transposed.
 */
export function filterGraph(g: ConvShape, plan: FilterGraphPlan): Uint8Array {
  const b = new GraphBuilder('conv2d_backprop_filter');
  const x = b.input('x', 'float', [g.B, g.H, g.W, g.Ci]),
    dy = b.input('dy', 'float', [g.B, g.Ho, g.Wo, g.Co]);
  let dw: string;
  if (plan === 'gemm') {
    const d = b.op('Reshape', [dy, b.i64([g.B * g.Ho * g.Wo, g.Co])]);
    const m = b.op('Gemm', [patches(b, x, g), d], { transA: attr.int(1) });
    dw = b.op('Reshape', [m, b.i64([g.KH, g.KW, g.Ci, g.Co])]);
  } else {
    const c = b.op(
      'Conv',
      [b.op('Transpose', [cropRead(b, x, g)], perm([3, 0, 1, 2])), b.op('Transpose', [dy], perm([3, 0, 1, 2]))],
      { pads: attr.ints(onnxPads(g)), dilations: attr.ints([g.sh, g.sw]), kernel_shape: attr.ints([g.Ho, g.Wo]) },
    );
    dw = b.op('Transpose', [c], perm([2, 3, 0, 1]));
  }
  b.output('dw', 'float', [g.KH, g.KW, g.Ci, g.Co], dw);
  return b.toBytes();
}

export type InputGraphPlan = 'convT' | 'gemm';
/**
 * dx [B,H,W,ci] from dy and the filter. 'gemm' (1×1, stride 1, unpadded only): dy · Wᵀ. 'convT': an NCHW
 * ConvTranspose with the filter as [co, ci, kh, kw] and the forward pads, giving the rows that are read; the
 * others (never read by the forward conv) get a zero gradient by a Pad.
 */
export function inputGraph(g: ConvShape, plan: InputGraphPlan): Uint8Array {
  const b = new GraphBuilder('conv2d_backprop_input');
  const dy = b.input('dy', 'float', [g.B, g.Ho, g.Wo, g.Co]),
    w = b.input('w', 'float', [g.KH, g.KW, g.Ci, g.Co]);
  let dx: string;
  if (plan === 'gemm') {
    if (!isPointwise(g)) throw new Error('inputGraph: the gemm plan is for 1×1 stride-1 unpadded convs');
    const m = b.op(
      'Gemm',
      [b.op('Reshape', [dy, b.i64([g.B * g.H * g.W, g.Co])]), b.op('Reshape', [w, b.i64([g.Ci, g.Co])])],
      {
        transB: attr.int(1),
      },
    );
    dx = b.op('Reshape', [m, b.i64([g.B, g.H, g.W, g.Ci])]);
  } else {
    const { hr, wr } = extent(g);
    const c = b.op(
      'ConvTranspose',
      [b.op('Transpose', [dy], perm([0, 3, 1, 2])), b.op('Transpose', [w], perm([3, 2, 0, 1]))],
      {
        pads: attr.ints(onnxPads(g)),
        strides: attr.ints([g.sh, g.sw]),
        kernel_shape: attr.ints([g.KH, g.KW]),
      },
    );
    const full = hr < g.H || wr < g.W ? b.op('Pad', [c, b.i64([0, 0, 0, 0, 0, 0, g.H - hr, g.W - wr])]) : c;
    dx = b.op('Transpose', [full], perm([0, 2, 3, 1]));
  }
  b.output('dx', 'float', [g.B, g.H, g.W, g.Ci], dx);
  return b.toBytes();
}
