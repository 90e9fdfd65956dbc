/**
 * The handful of operations the tiny diffusion model is written in, with two implementations: tfjs
 * (training; images NHWC) and an ONNX graph (export; images NCHW, the layout SD's ONNX files use).
 * The model's forward code (tiny_sd_model.ts) runs unchanged on either, so the exported graph computes
 * what the trained tfjs model computes, op for op.
 *
 * Conventions: an "image" is [B,H,W,C] in tfjs and [B,C,H,W] in ONNX; "tokens" are [B,N,C] in both;
 * weights are named and stored in tfjs layout (conv [k,k,cin,cout], linear [in,out]).
 */
import * as tf from '@tensorflow/tfjs-core';
import { attr, GraphBuilder } from '../synth/onnx/graph_builder.js';
import { toHalf } from '../synth/half.js';

export interface Ops<T> {
  /** 3×3 or 1×1 convolution, stride 1, zero padding (k−1)/2. */
  conv(x: T, name: string): T;
  /** x·W + b on the last axis (2-D or 3-D x). */
  linear(x: T, name: string, bias?: boolean): T;
  add(a: T, b: T): T;
  scale(x: T, s: number): T;
  silu(x: T): T;
  /** 2×2 mean pooling (halves H and W). */
  pool2(x: T): T;
  /** 2× nearest-neighbour up-sampling. */
  up2(x: T): T;
  catChannels(a: T, b: T): T;
  /** image + v broadcast over H, W; v [B,C]. */
  addChannels(x: T, v: T): T;
  /** image → tokens [B,HW,C] (row-major over H, W). */
  toTokens(x: T): T;
  /** tokens [B,HW,C] → an image shaped like `like`. */
  fromTokens(t: T, like: T): T;
  /** softmax(q·kᵀ·s)·v for q [B,N,d], k,v [B,M,d]. */
  attention(q: T, k: T, v: T, s: number): T;
  /** sinusoidal features of t [B] → [B,2·half]: [cos(t·f), sin(t·f)], f_i = exp(−ln(10⁴)·i/half) (diffusers get_timestep_embedding, flip_sin_to_cos). */
  timeFeatures(t: T, half: number): T;
  /** Embedding rows for int ids [B,N] → [B,N,D]. */
  embed(ids: T, name: string): T;
  /** A named constant parameter (e.g. positional table) as a tensor. */
  param(name: string): T;
}

export const timeFreqs = (half: number): Float32Array =>
  Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));

/** tfjs implementation over a parameter map (variables while training). */
export class TfOps implements Ops<tf.Tensor> {
  constructor(
    private readonly params: Map<string, tf.Tensor>,
    private readonly vocabSize = 0,
  ) {}
  param(name: string): tf.Tensor {
    const p = this.params.get(name);
    if (!p) throw new Error(`no parameter ${name}`);
    return p;
  }
  conv(x: tf.Tensor, name: string): tf.Tensor {
    const w = this.param(`${name}.weight`) as tf.Tensor4D;
    return tf.add(tf.conv2d(x as tf.Tensor4D, w, 1, 'same'), this.param(`${name}.bias`));
  }
  linear(x: tf.Tensor, name: string, bias = true): tf.Tensor {
    const w = this.param(`${name}.weight`) as tf.Tensor2D;
    const y =
      x.rank === 2
        ? tf.matMul(x as tf.Tensor2D, w)
        : tf.reshape(tf.matMul(tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D, w), [
            ...x.shape.slice(0, -1),
            w.shape[1],
          ]);
    return bias ? tf.add(y, this.param(`${name}.bias`)) : y;
  }
  add(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.add(a, b);
  }
  scale(x: tf.Tensor, s: number): tf.Tensor {
    return tf.mul(x, s);
  }
  silu(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, tf.sigmoid(x));
  }
  pool2(x: tf.Tensor): tf.Tensor {
    const [b, h, w, c] = x.shape;
    return tf.mean(tf.reshape(x, [b, h / 2, 2, w / 2, 2, c]), [2, 4]);
  }
  up2(x: tf.Tensor): tf.Tensor {
    const [b, h, w, c] = x.shape;
    const r = tf.reshape(x, [b, h, 1, w, 1, c]);
    return tf.reshape(tf.add(r, tf.zeros([1, 1, 2, 1, 2, 1])), [b, 2 * h, 2 * w, c]);
  }
  catChannels(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.concat([a, b], 3);
  }
  addChannels(x: tf.Tensor, v: tf.Tensor): tf.Tensor {
    return tf.add(x, tf.reshape(v, [v.shape[0], 1, 1, -1]));
  }
  toTokens(x: tf.Tensor): tf.Tensor {
    return tf.reshape(x, [x.shape[0], -1, x.shape[3] as number]);
  }
  fromTokens(t: tf.Tensor, like: tf.Tensor): tf.Tensor {
    return tf.reshape(t, like.shape);
  }
  attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, s: number): tf.Tensor {
    const a = tf.softmax(tf.mul(tf.matMul(q as tf.Tensor3D, k as tf.Tensor3D, false, true), s));
    return tf.matMul(a as tf.Tensor3D, v as tf.Tensor3D);
  }
  timeFeatures(t: tf.Tensor, half: number): tf.Tensor {
    const arg = tf.mul(tf.reshape(t, [-1, 1]), tf.tensor2d(timeFreqs(half), [1, half])); // [B,half]
    return tf.concat([tf.cos(arg), tf.sin(arg)], 1);
  }
  /** one-hot · table: the gradient is a plain matMul (exactly the rows Gather picks). */
  embed(ids: tf.Tensor, name: string): tf.Tensor {
    const table = this.param(name) as tf.Tensor2D;
    const oh = tf.oneHot(tf.reshape(ids, [-1]) as tf.Tensor1D, this.vocabSize || table.shape[0]) as tf.Tensor2D;
    return tf.reshape(tf.matMul(oh, table), [...ids.shape, table.shape[1]]);
  }
}

/** ONNX implementation: each op adds nodes to a GraphBuilder; parameters become initializers (float16 optional). */
export class OnnxOps implements Ops<string> {
  private readonly inits = new Map<string, string>();
  constructor(
    readonly g: GraphBuilder,
    private readonly values: Map<string, { data: Float32Array; shape: number[] }>,
    private readonly half: boolean,
  ) {}

  private value(name: string): { data: Float32Array; shape: number[] } {
    const v = this.values.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }
  /** Initializer from tfjs-layout data, optionally permuted; float16 storage is cast back to float32 in the graph. */
  private constant(key: string, data: Float32Array, dims: number[]): string {
    const hit = this.inits.get(key);
    if (hit) return hit;
    const out = this.half
      ? this.g.op('Cast', [this.g.init(toHalf(data), dims, 'float16', `${key}.f16`)], { to: attr.int(1) })
      : this.g.init(data, dims, 'float', key);
    this.inits.set(key, out);
    return out;
  }
  param(name: string): string {
    const v = this.value(name);
    return this.constant(name, v.data, v.shape);
  }
  conv(x: string, name: string): string {
    const w = this.value(`${name}.weight`);
    const [k, , cin, cout] = w.shape;
    const oihw = new Float32Array(w.data.length); // [k,k,cin,cout] → [cout,cin,k,k]
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++)
        for (let c = 0; c < cin; c++)
          for (let o = 0; o < cout; o++) {
            oihw[((o * cin + c) * k + i) * k + j] = w.data[((i * k + j) * cin + c) * cout + o];
          }
    const W = this.constant(`${name}.weight`, oihw, [cout, cin, k, k]);
    return this.g.op('Conv', [x, W, this.param(`${name}.bias`)], {
      kernel_shape: attr.ints([k, k]),
      pads: attr.ints(Array(4).fill((k - 1) / 2)),
    });
  }
  linear(x: string, name: string, bias = true): string {
    const y = this.g.op('MatMul', [x, this.param(`${name}.weight`)]);
    return bias ? this.g.op('Add', [y, this.param(`${name}.bias`)]) : y;
  }
  add(a: string, b: string): string {
    return this.g.op('Add', [a, b]);
  }
  scale(x: string, s: number): string {
    return this.g.op('Mul', [x, this.g.f32([s])]);
  }
  silu(x: string): string {
    return this.g.op('Mul', [x, this.g.op('Sigmoid', [x])]);
  }
  pool2(x: string): string {
    return this.g.op('AveragePool', [x], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
  }
  up2(x: string): string {
    return this.g.op('Resize', [x, '', this.g.f32([1, 1, 2, 2])], { mode: attr.str('nearest') });
  }
  catChannels(a: string, b: string): string {
    return this.g.op('Concat', [a, b], { axis: attr.int(1) });
  }
  addChannels(x: string, v: string): string {
    return this.g.op('Add', [x, this.g.op('Unsqueeze', [v, this.g.i64([2, 3])])]);
  }
  toTokens(x: string): string {
    return this.g.op('Transpose', [this.g.op('Reshape', [x, this.g.i64([0, 0, -1])])], { perm: attr.ints([0, 2, 1]) });
  }
  fromTokens(t: string, like: string): string {
    return this.g.op('Reshape', [
      this.g.op('Transpose', [t], { perm: attr.ints([0, 2, 1]) }),
      this.g.op('Shape', [like]),
    ]);
  }
  attention(q: string, k: string, v: string, s: number): string {
    const logits = this.g.op('Mul', [
      this.g.op('MatMul', [q, this.g.op('Transpose', [k], { perm: attr.ints([0, 2, 1]) })]),
      this.g.f32([s]),
    ]);
    return this.g.op('MatMul', [this.g.op('Softmax', [logits], { axis: attr.int(-1) }), v]);
  }
  timeFeatures(t: string, half: number): string {
    const tf32 = this.g.op('Reshape', [this.g.op('Cast', [t], { to: attr.int(1) }), this.g.i64([-1, 1])]);
    const arg = this.g.op('Mul', [tf32, this.g.f32(Array.from(timeFreqs(half)), [1, half])]);
    return this.g.op('Concat', [this.g.op('Cos', [arg]), this.g.op('Sin', [arg])], { axis: attr.int(1) });
  }
  embed(ids: string, name: string): string {
    return this.g.op('Gather', [this.param(name), ids], { axis: attr.int(0) });
  }
}
