/**
 * Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm 4.22 has none).
 *
 * dW[(i,j,c), co] = Σ_p P[p, (i,j,c)] · dy[p, co] — im2col transposed, produced chunk by chunk of output
 * pixels (so the patch matrix never exists whole), times dy through XNNPACK (gemm.ts). A 1×1 stride-1
 * unpadded conv needs no patches: dW = xᵀ · dy as a plain matrix product.
 * The alternative, dW as a forward conv of xᵀ with dy as a filter dilated by the stride, is measured by
 * bench/engine.ts (`…_dw_as_dilated_conv_gflops`): on ResNet-50's 3×3 shapes it was as fast at best
 * (56², 7²) and 1.3–2.2× slower elsewhere (14², stride 2), so it is not used.
 */
import { util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { convGeometry, withScratch, type WasmBackend } from './heap.js';
import { gemmTiled, matmul2d } from './gemm.js';
import { convShape, im2colT, isPointwise, numPixels } from './im2col.js';

export interface Conv2DBackpropFilterArgs {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: WasmBackend;
  attrs: {
    strides: number | [number, number];
    pad: unknown;
    dataFormat?: string;
    dimRoundingMode?: string;
    filterShape: number[];
  };
}

function conv2DBackpropFilter(args: Conv2DBackpropFilterArgs): TensorInfo {
  const {
    inputs: { x, dy },
    backend,
    attrs,
  } = args;
  const info = convGeometry(x.shape, attrs.filterShape, attrs);
  const g = convShape(info);
  const want = [g.B, g.Ho, g.Wo, g.Co];
  util.assert(
    dy.shape.join() === want.join(),
    () => `Conv2DBackpropFilter: dy shape [${dy.shape}] does not match the conv output [${want}]`,
  );
  return withScratch(backend, (s) => {
    const dW = s.output([g.KH, g.KW, g.Ci, g.Co]); // [kh, kw, ci, co]
    const P = numPixels(g),
      rows = g.KH * g.KW * g.Ci;
    if (P === 0 || rows * g.Co === 0) {
      s.zero(dW);
      return dW;
    }
    if (isPointwise(g)) matmul2d(s, { at: s.at(x), t: true }, { at: s.at(dy), t: false }, s.at(dW), g.Ci, P, g.Co);
    else gemmTiled(s, im2colT(g, s.at(x)), { at: s.at(dy), t: false }, s.at(dW), rows, P, g.Co);
    return dW;
  });
}

export const conv2DBackpropFilterKernel = conv2DBackpropFilter as unknown as KernelFunc;
