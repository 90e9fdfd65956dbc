/**
 * The sampler interface the pipeline drives. Latents are flat Float32Arrays in NCHW order
 * ([1, 4, H/8, W/8] for one image); the scheduler never sees the CFG batch.
 *
 * Randomness (initial latents, ancestral noise, DDIM η noise) comes from detrlab's `Rng` (sfc32 +
 * Box–Muller), not torch's generator: the same seed gives the same image here on every machine, but
 * not the image diffusers would draw with `torch.Generator().manual_seed(seed)`.
 */
import { Rng } from '../../engine/rng.js';

export type SchedulerName = 'ddim' | 'euler-a' | 'dpmpp-2m';
export const SCHEDULER_NAMES: readonly SchedulerName[] = ['ddim', 'euler-a', 'dpmpp-2m'];

export interface Scheduler {
  readonly name: SchedulerName;
  /** Model timesteps, largest first (what the UNet's `timestep` input receives). */
  readonly timesteps: readonly number[];
  /** The std of the initial latents: `randn · initNoiseSigma`. */
  readonly initNoiseSigma: number;
  /** diffusers `scale_model_input` for step `i` (a new array, or the input when it is the identity). */
  scaleModelInput(sample: Float32Array, i: number): Float32Array;
  /** diffusers `step` for step `i`: ε (the guided noise prediction) and x_t → x_{t−1}. */
  step(eps: Float32Array, i: number, sample: Float32Array, rng: Rng): Float32Array;
}

/** out[k] = a·x[k] + b·y[k] (the one elementwise kernel every update rule is built from). */
export function axpby(a: number, x: Float32Array, b: number, y: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) out[k] = a * x[k] + b * y[k];
  return out;
}

/** x + s·z with z ~ N(0, 1) drawn from `rng` (the ancestral / η noise term). */
export function addNoise(x: Float32Array, s: number, rng: Rng): Float32Array {
  if (s === 0) return x;
  const out = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) out[k] = x[k] + s * rng.normal();
  return out;
}
