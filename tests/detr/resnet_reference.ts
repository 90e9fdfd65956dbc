/**
 * An independent loop implementation of torchvision's ResNet v1.5 forward (batch 1, float64, NHWC
 * arrays) reading HF-named tensors: the reference for backbone.test.ts. Convolutions pad k//2 zeros on
 * every side (PyTorch), the stem max-pool 3×3/2 pads 1 with −∞, frozen BN is (x − μ)/√(σ² + ε)·γ + β.
 */
export interface Image {
  h: number;
  w: number;
  c: number;
  v: Float64Array;
} // v[(y*w + x)*c + ch]
/** Tensor values by HF name, in tfjs layout (conv filters [kh, kw, in, out]); undefined if absent. */
export type Weights = (name: string) => { shape: number[]; values: Float32Array } | undefined;
const must = (W: Weights, name: string): { shape: number[]; values: Float32Array } => {
  const t = W(name);
  if (!t) throw new Error(`reference: missing ${name}`);
  return t;
};

const P = 'model.backbone.conv_encoder.model.';

function conv(x: Image, w: { shape: number[]; values: Float32Array }, stride: number): Image {
  const [k, , ci, co] = w.shape,
    pad = k >> 1;
  const h = Math.floor((x.h + 2 * pad - k) / stride) + 1,
    wd = Math.floor((x.w + 2 * pad - k) / stride) + 1;
  const out: Image = { h, w: wd, c: co, v: new Float64Array(h * wd * co) };
  for (let oy = 0; oy < h; oy++)
    for (let ox = 0; ox < wd; ox++)
      for (let o = 0; o < co; o++) {
        let acc = 0;
        for (let i = 0; i < k; i++)
          for (let j = 0; j < k; j++) {
            const iy = oy * stride + i - pad,
              ix = ox * stride + j - pad;
            if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
            for (let c = 0; c < ci; c++)
              acc += x.v[(iy * x.w + ix) * ci + c] * w.values[((i * k + j) * ci + c) * co + o];
          }
        out.v[(oy * wd + ox) * co + o] = acc;
      }
  return out;
}

function frozenBn(x: Image, W: Weights, bn: string): Image {
  const [g, b, m, v] = ['weight', 'bias', 'running_mean', 'running_var'].map((f) => must(W, `${P}${bn}.${f}`).values);
  return {
    ...x,
    v: x.v.map((val, i) => ((val - m[i % x.c]) / Math.sqrt(v[i % x.c] + 1e-5)) * g[i % x.c] + b[i % x.c]),
  };
}

const relu = (x: Image): Image => ({ ...x, v: x.v.map((a) => Math.max(0, a)) });
const add = (a: Image, b: Image): Image => ({ ...a, v: a.v.map((u, i) => u + b.v[i]) });

/** 3×3 stride-2 max-pool, padding 1 that never wins (−∞). */
export function maxPoolRef(x: Image): Image {
  const h = Math.floor((x.h + 2 - 3) / 2) + 1,
    w = Math.floor((x.w + 2 - 3) / 2) + 1;
  const out: Image = { h, w, c: x.c, v: new Float64Array(h * w * x.c).fill(-Infinity) };
  for (let oy = 0; oy < h; oy++)
    for (let ox = 0; ox < w; ox++)
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++) {
          const iy = 2 * oy + i - 1,
            ix = 2 * ox + j - 1;
          if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
          for (let c = 0; c < x.c; c++)
            out.v[(oy * w + ox) * x.c + c] = Math.max(out.v[(oy * w + ox) * x.c + c], x.v[(iy * x.w + ix) * x.c + c]);
        }
  return out;
}

const STAGES: Record<number, number[]> = { 18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3] };

function block(x: Image, W: Weights, name: string, stride: number, bottleneck: boolean): Image {
  const cb = (h: Image, i: number, s: number): Image =>
    frozenBn(conv(h, must(W, `${P}${name}.conv${i}.weight`), s), W, `${name}.bn${i}`);
  const h = bottleneck ? cb(relu(cb(relu(cb(x, 1, 1)), 2, stride)), 3, 1) : cb(relu(cb(x, 1, stride)), 2, 1);
  const ds = W(`${P}${name}.downsample.0.weight`);
  return relu(add(h, ds ? frozenBn(conv(x, ds, stride), W, `${name}.downsample.1`) : x));
}

/** The backbone's forward pass by loops. */
export function resnetRef(x: Image, W: Weights, depth: number, numStages: number): Image {
  let h = maxPoolRef(relu(frozenBn(conv(x, must(W, `${P}conv1.weight`), 2), W, 'bn1')));
  for (let L = 1; L <= numStages; L++) {
    for (let b = 0; b < STAGES[depth][L - 1]; b++)
      h = block(h, W, `layer${L}.${b}`, b === 0 && L > 1 ? 2 : 1, depth >= 50);
  }
  return h;
}
