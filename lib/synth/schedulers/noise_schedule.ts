/**
 * The training noise schedule shared by every sampler, as diffusers builds it (`scheduling_ddim.py`
 * `__init__`): SD 1.5's `scaled_linear` betas, ᾱ_t = Π(1 − β), and the timestep spacings of
 * `set_timesteps` ("leading", "linspace", "trailing"; Table 2 of arXiv 2305.08891).
 *
 * Arithmetic is float64 here; diffusers builds betas/ᾱ in float32 torch tensors, so ᾱ differs from
 * diffusers' by ~1e-7 relative (far below what a float16 UNet resolves).
 */
export type TimestepSpacing = 'leading' | 'linspace' | 'trailing';

/** The subset of diffusers' scheduler config that SD 1.5 sets (scheduler/scheduler_config.json). */
export interface NoiseScheduleConfig {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: 'scaled_linear' | 'linear';
  /** Added to "leading" timesteps (SD 1.5: 1). */
  stepsOffset: number;
  /** DDIM's ᾱ_prev past the last step: 1 if true, else ᾱ[0] (SD 1.5: false). */
  setAlphaToOne: boolean;
}

export const SD15_NOISE_SCHEDULE: NoiseScheduleConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'scaled_linear',
  stepsOffset: 1,
  setAlphaToOne: false,
};

/** numpy/torch `linspace(a, b, n)`: a + i·(b − a)/(n − 1), the last one exactly b. */
export function linspace(a: number, b: number, n: number): number[] {
  if (n === 1) return [a];
  const step = (b - a) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? b : a + i * step));
}

/** ᾱ_t for t = 0 … T−1. scaled_linear: β = linspace(√β₀, √β₁, T)²; linear: β = linspace(β₀, β₁, T). */
export function alphasCumprod(cfg: NoiseScheduleConfig): Float64Array {
  const betas =
    cfg.betaSchedule === 'scaled_linear'
      ? linspace(Math.sqrt(cfg.betaStart), Math.sqrt(cfg.betaEnd), cfg.numTrainTimesteps).map((b) => b * b)
      : linspace(cfg.betaStart, cfg.betaEnd, cfg.numTrainTimesteps);
  const out = new Float64Array(cfg.numTrainTimesteps);
  let prod = 1;
  betas.forEach((b, i) => {
    prod *= 1 - b;
    out[i] = prod;
  });
  return out;
}

/** σ(t) = √((1 − ᾱ_t)/ᾱ_t), the "Karras" noise level of a VP timestep. */
export const sigmaOf = (alphaBar: number): number => Math.sqrt((1 - alphaBar) / alphaBar);

/**
 * Inference timesteps, largest first, as `set_timesteps` of DDIM / Euler-ancestral compute them:
 *   leading:  arange(N)·(T//N), reversed, + steps_offset          (DDIM default; integers)
 *   linspace: linspace(0, T−1, N), reversed                       (Euler default; fractional, float32)
 *   trailing: round(arange(T, 0, −T/N)) − 1                        (integers)
 * `roundLinspace` rounds the linspace values (DDIM does `.round()`, Euler keeps the fractions).
 */
export function inferenceTimesteps(
  cfg: NoiseScheduleConfig,
  steps: number,
  spacing: TimestepSpacing,
  roundLinspace: boolean,
): number[] {
  const T = cfg.numTrainTimesteps;
  if (spacing === 'leading') {
    const ratio = Math.floor(T / steps);
    return Array.from({ length: steps }, (_, i) => (steps - 1 - i) * ratio + cfg.stepsOffset);
  }
  if (spacing === 'linspace') {
    const ts = linspace(0, T - 1, steps).reverse();
    return ts.map((t) => (roundLinspace ? roundHalfEven(t) : Math.fround(t)));
  }
  const ratio = T / steps; // np.arange(T, 0, -ratio) has ceil(T / ratio) elements T − i·ratio
  return Array.from({ length: Math.ceil(T / ratio) }, (_, i) => roundHalfEven(T - i * ratio) - 1);
}

/** numpy's `round` (banker's rounding: halves go to the even neighbour). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** numpy `interp(x, arange(len(ys)), ys)` for x inside [0, len−1]. */
export function interpAtTimestep(ys: ArrayLike<number>, x: number): number {
  const i = Math.min(Math.floor(x), ys.length - 2);
  const f = x - i;
  return ys[i] * (1 - f) + ys[i + 1] * f;
}
