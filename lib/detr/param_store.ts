/**
 * Model parameters by Hugging Face `DetrForObjectDetection` name. Tensors are held in tfjs layout
 * (conv filters [kh, kw, in, out], linear weights [in, out]) and converted to/from the PyTorch layout
 * (conv [out, in, kh, kw], linear [out, in]) only at the checkpoint boundary (safetensors I/O).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../engine/rng.js';

/** How a tensor's PyTorch layout maps to ours. */
export type TensorLayout = 'conv' | 'linear' | 'plain';
/**
 * Which optimizer group a parameter belongs to: the backbone trains at `lrBackbone`; DETR's transformer and heads
 * (`transformer`, DETR's name for that group) and the crop classifier's head (`head`) at `lr`.
 */
export type ParamGroup = 'backbone' | 'transformer' | 'head';

export type InitSpec =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'normal'; std: number }
  | { kind: 'uniform'; bound: number }
  /** Glorot/Xavier uniform over PyTorch fan-in/fan-out (DETR's transformer `_reset_parameters`). */
  | { kind: 'xavier' }
  /** Kaiming normal, fan_out, relu (torchvision ResNet conv init). */
  | { kind: 'kaimingOut' }
  /** PyTorch's default nn.Linear / nn.Conv2d init: kaiming_uniform(a=√5) → U(±1/√fan_in) for weight and bias. */
  | { kind: 'torchDefault'; fanIn: number };

export interface TensorSpec {
  /** HF name, e.g. `model.encoder.layers.0.fc1.weight`. */
  name: string;
  /** Shape in the PyTorch/HF checkpoint. */
  hfShape: number[];
  layout: TensorLayout;
  /** false for frozen weights and for buffers (frozen batch-norm statistics). */
  trainable: boolean;
  group: ParamGroup;
  init: InitSpec;
}

/** PyTorch shape → tfjs shape. */
export function tfShape(spec: Pick<TensorSpec, 'hfShape' | 'layout'>): number[] {
  const s = spec.hfShape;
  if (spec.layout === 'conv') return [s[2], s[3], s[1], s[0]];
  if (spec.layout === 'linear') return [s[1], s[0]];
  return [...s];
}

/** PyTorch-layout tensor → our layout (and back with `toHf`). */
export function fromHf(t: tf.Tensor, layout: TensorLayout): tf.Tensor {
  if (layout === 'conv') return tf.transpose(t, [2, 3, 1, 0]); // [O,I,kh,kw] → [kh,kw,I,O]
  if (layout === 'linear') return tf.transpose(t, [1, 0]); // [O,I] → [I,O]
  return t.clone();
}
export function toHf(t: tf.Tensor, layout: TensorLayout): tf.Tensor {
  if (layout === 'conv') return tf.transpose(t, [3, 2, 0, 1]); // [kh,kw,I,O] → [O,I,kh,kw]
  if (layout === 'linear') return tf.transpose(t, [1, 0]);
  return t.clone();
}

function fans(spec: TensorSpec): { fanIn: number; fanOut: number } {
  const s = spec.hfShape;
  const rf = s.length > 2 ? s.slice(2).reduce((a, b) => a * b, 1) : 1;
  return { fanIn: (s[1] ?? 1) * rf, fanOut: s[0] * rf };
}

/** Initial values (in tfjs layout) drawn from `rng`. */
export function initValues(spec: TensorSpec, rng: Rng): tf.Tensor {
  const shape = tfShape(spec);
  const n = shape.reduce((a, b) => a * b, 1);
  const init = spec.init;
  const vals = new Float32Array(n);
  switch (init.kind) {
    case 'zeros':
      break;
    case 'ones':
      vals.fill(1);
      break;
    case 'normal':
      for (let i = 0; i < n; i++) vals[i] = init.std * rng.normal();
      break;
    case 'uniform':
      for (let i = 0; i < n; i++) vals[i] = rng.uniform(-init.bound, init.bound);
      break;
    case 'xavier': {
      const { fanIn, fanOut } = fans(spec);
      const b = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < n; i++) vals[i] = rng.uniform(-b, b);
      break;
    }
    case 'kaimingOut': {
      const std = Math.sqrt(2 / fans(spec).fanOut);
      for (let i = 0; i < n; i++) vals[i] = std * rng.normal();
      break;
    }
    case 'torchDefault': {
      const b = 1 / Math.sqrt(init.fanIn);
      for (let i = 0; i < n; i++) vals[i] = rng.uniform(-b, b);
      break;
    }
  }
  // Values are generated in PyTorch index order, then moved to our layout, so a seed gives the same
  // tensor whichever layout holds it.
  return tf.tidy(() => fromHf(tf.tensor(vals, spec.hfShape), spec.layout));
}

/** The model's tensors, by HF name. */
export class ParamStore {
  readonly specs: Map<string, TensorSpec>;
  private readonly vars = new Map<string, tf.Variable>();

  constructor(specs: TensorSpec[]) {
    this.specs = new Map(specs.map((s) => [s.name, s]));
    if (this.specs.size !== specs.length) throw new Error('duplicate tensor names in model spec');
  }

  /** Creates every tensor from its init spec (drawn in spec order from `rng`). */
  initAll(rng: Rng): this {
    for (const spec of this.specs.values()) this.set(spec.name, initValues(spec, rng), true);
    return this;
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  /** The tensor (tfjs layout). Throws if missing: a model never silently runs on a missing weight. */
  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`parameter '${name}' is not loaded`);
    return v;
  }

  /** Sets a tensor (tfjs layout); takes ownership of `value` when `own` is true. */
  set(name: string, value: tf.Tensor, own = false): void {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`unknown parameter '${name}'`);
    const want = tfShape(spec);
    if (value.shape.join() !== want.join())
      throw new Error(`parameter '${name}': shape [${value.shape}] does not match [${want}]`);
    const old = this.vars.get(name);
    if (old) {
      old.assign(value);
    } else {
      this.vars.set(name, tf.variable(value, spec.trainable)); // unnamed: tfjs variable names are global
    }
    if (own) value.dispose();
  }

  names(): string[] {
    return [...this.specs.keys()];
  }

  /** Trainable variables, optionally of one group. */
  trainable(group?: ParamGroup): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, spec] of this.specs) {
      if (spec.trainable && (!group || spec.group === group)) out.set(name, this.get(name));
    }
    return out;
  }

  /** Number of scalar parameters (trainable, or all incl. buffers). */
  count(trainableOnly = false): number {
    let n = 0;
    for (const s of this.specs.values()) if (!trainableOnly || s.trainable) n += s.hfShape.reduce((a, b) => a * b, 1);
    return n;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
