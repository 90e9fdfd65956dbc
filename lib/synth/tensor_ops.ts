/**
 * The few host-side tensor operations the pipeline needs, on flat Float32Arrays in NCHW order.
 * Dims: B batch (2 with CFG: [uncond; cond]), C channels, h/w latent size (H/8, W/8), H/W image size.
 */
import { HostTensor } from './onnx_session.js';

/** [n, …] → [k·n, …]: the batch repeated k times (diffusers `torch.cat([x] * k)`). */
export function repeatBatch(t: HostTensor, k: number): HostTensor {
  if (k === 1) return t;
  const data = new Float32Array(t.data.length * k);
  for (let i = 0; i < k; i++) data.set(t.data as Float32Array, i * t.data.length);
  return { data, dims: [t.dims[0] * k, ...t.dims.slice(1)] };
}

/** Batch concatenation along dim 0 (all parts share the trailing dims). */
export function concatBatch(parts: HostTensor[]): HostTensor {
  const total = parts.reduce((n, p) => n + p.data.length, 0);
  const data = new Float32Array(total);
  let off = 0;
  for (const p of parts) {
    data.set(p.data as Float32Array, off);
    off += p.data.length;
  }
  return { data, dims: [parts.reduce((n, p) => n + p.dims[0], 0), ...parts[0].dims.slice(1)] };
}

/** Classifier-free guidance on a [2, …] prediction: ε = ε_u + s·(ε_c − ε_u) → [1, …]. */
export function guide(pred: HostTensor, scale: number): Float32Array {
  const n = pred.data.length / 2;
  const d = pred.data as Float32Array;
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = d[k] + scale * (d[n + k] - d[k]);
  return out;
}

/** x·s as a new tensor (ControlNet residuals × conditioning scale when the model has no scale input). */
export function scaled(t: HostTensor, s: number): HostTensor {
  if (s === 1) return t;
  return { data: (t.data as Float32Array).map((v) => v * s), dims: t.dims };
}

/** VAE output [1,3,H,W] in [-1,1] → clip(x/2 + 0.5, 0, 1) (diffusers `VaeImageProcessor.denormalize` + clamp). */
export function denormalize(x: Float32Array): Float32Array {
  return x.map((v) => Math.min(1, Math.max(0, v / 2 + 0.5)));
}

/** [3,H,W] floats in [0,1] → interleaved RGB bytes [H,W,3] with round(x·255) (diffusers `numpy_to_pil`). */
export function chwToRgbBytes(x: Float32Array, width: number, height: number): Uint8Array {
  const plane = width * height;
  const out = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(x[c * plane + i] * 255);
  return out;
}

/** Interleaved bytes [H,W,C] → [1,3,H,W] floats in [0,1] (grey repeated to 3 channels). */
export function rgbBytesToNchw(bytes: Uint8Array, width: number, height: number, channels: number): Float32Array {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++)
    for (let c = 0; c < 3; c++) out[c * plane + i] = bytes[i * channels + (channels === 1 ? 0 : c)] / 255;
  return out;
}
