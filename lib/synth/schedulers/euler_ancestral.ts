/**
 * Euler ancestral (diffusers `EulerAncestralDiscreteScheduler`, `scheduling_euler_ancestral_discrete.py`),
 * epsilon prediction. σ_i = interp(σ(t), t_i) with σ(t) = √((1−ᾱ)/ᾱ), then a final σ = 0.
 *   scale_model_input: x / √(σ_i² + 1)
 *   step: x̂₀ = x − σ_i·ε;  σ_up = √(σ_{i+1}²(σ_i² − σ_{i+1}²)/σ_i²);  σ_down = √(σ_{i+1}² − σ_up²)
 *         x ← x + ((x − x̂₀)/σ_i)·(σ_down − σ_i) + σ_up·z
 * init_noise_sigma = max σ for "linspace"/"trailing" spacing, √(max σ² + 1) for "leading".
 * Default spacing "linspace" (fractional float32 timesteps, passed to the UNet as they are).
 */
import { Rng } from '../../engine/rng.js';
import {
  alphasCumprod,
  inferenceTimesteps,
  interpAtTimestep,
  NoiseScheduleConfig,
  sigmaOf,
  TimestepSpacing,
} from './noise_schedule.js';
import { addNoise, axpby, Scheduler } from './scheduler.js';

/** σ at each inference timestep, followed by 0 (diffusers' `self.sigmas`). */
export function karrasSigmasAt(cfg: NoiseScheduleConfig, timesteps: readonly number[]): number[] {
  const sigmaTable = Array.from(alphasCumprod(cfg), sigmaOf);
  return [...timesteps.map((t) => interpAtTimestep(sigmaTable, t)), 0];
}

export class EulerAncestralScheduler implements Scheduler {
  readonly name = 'euler-a' as const;
  readonly timesteps: readonly number[];
  readonly sigmas: readonly number[];
  readonly initNoiseSigma: number;

  constructor(cfg: NoiseScheduleConfig, steps: number, o: { spacing?: TimestepSpacing } = {}) {
    const spacing = o.spacing ?? 'linspace';
    this.timesteps = inferenceTimesteps(cfg, steps, spacing, false);
    this.sigmas = karrasSigmasAt(cfg, this.timesteps);
    const maxSigma = Math.max(...this.sigmas);
    this.initNoiseSigma = spacing === 'leading' ? Math.sqrt(maxSigma * maxSigma + 1) : maxSigma;
  }

  scaleModelInput(sample: Float32Array, i: number): Float32Array {
    const s = 1 / Math.sqrt(this.sigmas[i] ** 2 + 1);
    return sample.map((v) => v * s);
  }

  step(eps: Float32Array, i: number, sample: Float32Array, rng: Rng): Float32Array {
    const from = this.sigmas[i];
    const to = this.sigmas[i + 1];
    const up = Math.sqrt((to * to * (from * from - to * to)) / (from * from));
    const down = Math.sqrt(to * to - up * up);
    // derivative = (x − x̂₀)/σ = ε, so x + ε·(σ_down − σ): exactly diffusers' update, without the cancellation
    return addNoise(axpby(1, sample, down - from, eps), up, rng);
  }
}
