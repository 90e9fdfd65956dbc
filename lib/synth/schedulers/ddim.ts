/**
 * DDIM (diffusers `DDIMScheduler`, `scheduling_ddim.py`), epsilon prediction, clip_sample false:
 *   prev  = t − T//N                     ᾱ_prev = ᾱ[prev] if prev ≥ 0 else (1 if set_alpha_to_one else ᾱ[0])
 *   x̂₀    = (x − √(1−ᾱ_t)·ε) / √ᾱ_t
 *   σ     = η·√((1−ᾱ_prev)/(1−ᾱ_t) · (1 − ᾱ_t/ᾱ_prev))
 *   x_prev = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ²)·ε  (+ σ·z when η > 0)
 * `init_noise_sigma` = 1 and `scale_model_input` is the identity. Default spacing "leading".
 */
import { Rng } from '../../engine/rng.js';
import { alphasCumprod, inferenceTimesteps, NoiseScheduleConfig, TimestepSpacing } from './noise_schedule.js';
import { addNoise, axpby, Scheduler } from './scheduler.js';

export interface DdimOptions {
  eta?: number;
  spacing?: TimestepSpacing;
}

export class DdimScheduler implements Scheduler {
  readonly name = 'ddim' as const;
  readonly timesteps: readonly number[];
  readonly initNoiseSigma = 1;
  private readonly ac: Float64Array;
  private readonly finalAlphaCumprod: number;
  private readonly stride: number;
  private readonly eta: number;

  constructor(cfg: NoiseScheduleConfig, steps: number, o: DdimOptions = {}) {
    this.ac = alphasCumprod(cfg);
    this.finalAlphaCumprod = cfg.setAlphaToOne ? 1 : this.ac[0];
    this.timesteps = inferenceTimesteps(cfg, steps, o.spacing ?? 'leading', true);
    this.stride = Math.floor(cfg.numTrainTimesteps / steps);
    this.eta = o.eta ?? 0;
  }

  /** ᾱ_t and ᾱ_prev of step `i` (exposed for tests and the known-function checks). */
  alphas(i: number): { alphaT: number; alphaPrev: number } {
    const t = this.timesteps[i];
    const prev = t - this.stride;
    return { alphaT: this.ac[t], alphaPrev: prev >= 0 ? this.ac[prev] : this.finalAlphaCumprod };
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  step(eps: Float32Array, i: number, sample: Float32Array, rng: Rng): Float32Array {
    const { alphaT, alphaPrev } = this.alphas(i);
    const variance = ((1 - alphaPrev) / (1 - alphaT)) * (1 - alphaT / alphaPrev);
    const std = this.eta * Math.sqrt(variance);
    // x_prev = √ᾱ_prev·(x − √(1−ᾱ_t)ε)/√ᾱ_t + √(1−ᾱ_prev−σ²)·ε, folded into a·x + b·ε
    const a = Math.sqrt(alphaPrev) / Math.sqrt(alphaT);
    const b = Math.sqrt(1 - alphaPrev - std * std) - a * Math.sqrt(1 - alphaT);
    return addNoise(axpby(a, sample, b, eps), std, rng);
  }
}
