/**
 * DPM-Solver++ 2M (diffusers `DPMSolverMultistepScheduler`, `scheduling_dpmsolver_multistep.py` with its
 * defaults: solver_order 2, algorithm_type "dpmsolver++", solver_type "midpoint", lower_order_final,
 * final_sigmas_type "zero", spacing "linspace" = linspace(0, T−1, N+1).round() reversed, last dropped).
 *   α_t = 1/√(σ²+1), σ_t = σ·α_t, λ = ln α_t − ln σ_t;  x̂₀ = (x − σ_t ε)/α_t
 *   1st order: x ← (σ_t/σ_s)·x − α_t(e^{−h} − 1)·x̂₀,  h = λ_t − λ_s
 *   2nd order: r = h₀/h, D0 = m0, D1 = (m0 − m1)/r, x ← (σ_t/σ_s0)·x − α_t(e^{−h}−1)·D0 − ½α_t(e^{−h}−1)·D1
 * First step and last step are 1st order. init_noise_sigma = 1, scale_model_input is the identity. Deterministic.
 */
import {
  alphasCumprod,
  linspace,
  NoiseScheduleConfig,
  roundHalfEven,
  sigmaOf,
  interpAtTimestep,
} from './noise_schedule.js';
import { axpby, Scheduler } from './scheduler.js';

interface VpPoint {
  alpha: number;
  sigma: number;
  lambda: number;
}
const vp = (s: number): VpPoint => {
  const alpha = 1 / Math.sqrt(s * s + 1);
  const sigma = s * alpha;
  return { alpha, sigma, lambda: Math.log(alpha) - Math.log(sigma) };
};

export class DpmSolverPP2MScheduler implements Scheduler {
  readonly name = 'dpmpp-2m' as const;
  readonly timesteps: readonly number[];
  readonly sigmas: readonly number[];
  readonly initNoiseSigma = 1;
  private prevX0: Float32Array | undefined;

  constructor(cfg: NoiseScheduleConfig, steps: number) {
    const T = cfg.numTrainTimesteps;
    this.timesteps = linspace(0, T - 1, steps + 1)
      .map(roundHalfEven)
      .reverse()
      .slice(0, steps);
    const table = Array.from(alphasCumprod(cfg), sigmaOf);
    this.sigmas = [...this.timesteps.map((t) => interpAtTimestep(table, t)), 0];
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  step(eps: Float32Array, i: number, sample: Float32Array): Float32Array {
    const s0 = vp(this.sigmas[i]);
    const t = vp(this.sigmas[i + 1]);
    const x0 = axpby(1 / s0.alpha, sample, -s0.sigma / s0.alpha, eps); // x̂₀ = (x − σ_s ε)/α_s
    const h = t.lambda - s0.lambda;
    const em1 = Math.exp(-h) - 1;
    const firstOrder = i === 0 || i === this.timesteps.length - 1 || this.prevX0 === undefined;
    let d = x0;
    if (!firstOrder) {
      const r = (s0.lambda - vp(this.sigmas[i - 1]).lambda) / h;
      d = axpby(1 + 0.5 / r, x0, -0.5 / r, this.prevX0!); // D0 + ½·D1
    }
    this.prevX0 = x0;
    return axpby(t.sigma / s0.sigma, sample, -t.alpha * em1, d);
  }
}
