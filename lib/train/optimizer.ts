/**
 * AdamW with parameter groups and global-norm clipping, matching PyTorch exactly:
 *  - `torch.optim.AdamW` (decoupled weight decay, bias-corrected moments, eps added after the
 *    bias-corrected square root): p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 *    p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps)
 *  - `torch.nn.utils.clip_grad_norm_`: total = ‖all grads‖₂; g ← g · min(1, max_norm / (total + 1e-6)).
 * DETR's recipe: two groups — backbone at lr_backbone, everything else at lr — both with wd 1e-4.
 */
import * as tf from '@tensorflow/tfjs-core';
import { adamWUpdateWasm } from '../engine/wasm_kernels/adamw.js';

export interface ParamGroup {
  name: string;
  lr: number;
  weightDecay: number;
  params: Map<string, tf.Variable>;
}
export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /**
   * Update each parameter in one pass where the backend allows it (wasm; lib/engine/wasm_kernels/adamw.ts),
   * equal bit for bit to the per-op form (default true; false = always the per-op form).
   */
  fused?: boolean;
}
/** Serialisable optimizer state (moments by parameter name, step count, group lrs). */
export interface AdamWState {
  step: number;
  lrs: Record<string, number>;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly fused: boolean;
  private t = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    readonly groups: ParamGroup[],
    o: AdamWOptions = {},
  ) {
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    this.fused = o.fused ?? true;
    const seen = new Set<string>();
    for (const g of groups)
      for (const name of g.params.keys()) {
        if (seen.has(name)) throw new Error(`parameter ${name} is in two optimizer groups`);
        seen.add(name);
      }
  }

  get step(): number {
    return this.t;
  }

  /**
   * One update from `grads` (by parameter name; parameters without a gradient are left alone), each
   * gradient multiplied by `gradScale` first (a clipping coefficient from `gradNormScale`; the product is
   * the one `tf.mul(g, gradScale)` gives, so this equals applying `clipGradNorm`'s clipped gradients).
   */
  apply(grads: Map<string, tf.Tensor>, gradScale = 1): void {
    this.t += 1;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2Sqrt = Math.sqrt(1 - this.beta2 ** this.t);
    for (const g of this.groups) {
      const stepSize = g.lr / bc1;
      const decay = g.weightDecay !== 0 ? 1 - g.lr * g.weightDecay : undefined;
      for (const [name, p] of g.params) {
        const grad = grads.get(name);
        if (!grad) continue;
        const m = this.moment(this.m, name, p);
        const v = this.moment(this.v, name, p);
        const s = { beta1: this.beta1, beta2: this.beta2, eps: this.eps, bc2Sqrt, stepSize, decay, gradScale };
        const next = this.fused ? adamWUpdateWasm(p, m, v, grad, s) : undefined;
        if (next) {
          p.assign(next);
          next.dispose();
          continue;
        }
        tf.tidy(() => {
          const gs = gradScale !== 1 ? tf.mul(grad, gradScale) : grad;
          const m1 = tf.add(tf.mul(m, this.beta1), tf.mul(gs, 1 - this.beta1));
          const v1 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(gs), 1 - this.beta2));
          const denom = tf.add(tf.div(tf.sqrt(v1), bc2Sqrt), this.eps);
          const decayed = decay !== undefined ? tf.mul(p, decay) : p;
          m.assign(m1);
          v.assign(v1);
          p.assign(tf.sub(decayed, tf.mul(tf.div(m1, denom), stepSize)));
        });
      }
    }
  }

  private moment(map: Map<string, tf.Variable>, name: string, p: tf.Variable): tf.Variable {
    let x = map.get(name);
    if (!x) {
      x = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
      map.set(name, x);
    } // tidy frees the initial value
    return x;
  }

  setLr(group: string, lr: number): void {
    const g = this.groups.find((x) => x.name === group);
    if (!g) throw new Error(`no optimizer group ${group}`);
    g.lr = lr;
  }

  async state(): Promise<AdamWState> {
    const read = async (map: Map<string, tf.Variable>) =>
      new Map(await Promise.all([...map].map(async ([k, x]) => [k, (await x.data()) as Float32Array] as const)));
    return {
      step: this.t,
      lrs: Object.fromEntries(this.groups.map((g) => [g.name, g.lr])),
      m: await read(this.m),
      v: await read(this.v),
    };
  }

  loadState(s: AdamWState): void {
    this.t = s.step;
    for (const g of this.groups) if (s.lrs[g.name] !== undefined) g.lr = s.lrs[g.name];
    const put = (map: Map<string, tf.Variable>, vals: Map<string, Float32Array>) => {
      for (const g of this.groups)
        for (const [name, p] of g.params) {
          const arr = vals.get(name);
          if (!arr) continue;
          if (arr.length !== p.size)
            throw new Error(`optimizer state for ${name} has ${arr.length} values, the parameter has ${p.size}`);
          map.get(name)?.dispose();
          map.set(
            name,
            tf.tidy(() => tf.variable(tf.tensor(arr, p.shape), false)),
          );
        }
    };
    put(this.m, s.m);
    put(this.v, s.v);
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
    this.m.clear();
    this.v.clear();
  }
}

/**
 * Global L2 norm of all gradients and the coefficient `torch.nn.utils.clip_grad_norm_` scales them by:
 * min(1, maxNorm / (total + 1e-6)); 1 when maxNorm ≤ 0 (no clipping).
 */
export async function gradNormScale(
  grads: Map<string, tf.Tensor>,
  maxNorm: number,
): Promise<{ coef: number; totalNorm: number }> {
  const sq = tf.tidy(() => tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g)))));
  const totalNorm = Math.sqrt((await sq.data())[0]);
  sq.dispose();
  return { coef: maxNorm > 0 ? Math.min(1, maxNorm / (totalNorm + 1e-6)) : 1, totalNorm };
}

/** Global L2 norm of all gradients and the clipped gradients (new tensors; inputs untouched). */
export async function clipGradNorm(
  grads: Map<string, tf.Tensor>,
  maxNorm: number,
): Promise<{ grads: Map<string, tf.Tensor>; totalNorm: number }> {
  const { coef, totalNorm } = await gradNormScale(grads, maxNorm);
  const out = new Map<string, tf.Tensor>();
  for (const [k, g] of grads) out.set(k, coef === 1 ? g.clone() : tf.mul(g, coef));
  return { grads: out, totalNorm };
}
