/**
 * Scheduler arithmetic against values computed here from diffusers' formulas (scheduling_ddim.py,
 * scheduling_euler_ancestral_discrete.py, scheduling_dpmsolver_multistep.py), with SD 1.5's config:
 * β = linspace(√0.00085, √0.012, 1000)², steps_offset 1, set_alpha_to_one false.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../lib/engine/rng.js';
import { alphasCumprod, inferenceTimesteps, SD15_NOISE_SCHEDULE } from '../../lib/synth/schedulers/noise_schedule.js';
import { DdimScheduler } from '../../lib/synth/schedulers/ddim.js';
import { EulerAncestralScheduler } from '../../lib/synth/schedulers/euler_ancestral.js';
import { DpmSolverPP2MScheduler } from '../../lib/synth/schedulers/dpm_solver.js';
import { makeScheduler } from '../../lib/synth/schedulers/make_scheduler.js';
import { isUserError } from '../../lib/params/user_error.js';

const cfg = SD15_NOISE_SCHEDULE;
/** ᾱ_t written out: β_i = (√β₀ + i·(√β₁ − √β₀)/999)², ᾱ_t = Π_{i≤t}(1 − β_i). */
function abar(t: number): number {
  const a = Math.sqrt(0.00085),
    b = Math.sqrt(0.012);
  let p = 1;
  for (let i = 0; i <= t; i++) p *= 1 - (a + (i * (b - a)) / 999) ** 2;
  return p;
}
const sigma = (t: number) => Math.sqrt((1 - abar(t)) / abar(t));
const close = (a: number, b: number, tol = 1e-6) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);
const closeArr = (a: ArrayLike<number>, b: number[], tol = 1e-5) => b.forEach((v, i) => close(a[i], v, tol));

test('alphas_cumprod: ᾱ_0 = 1 − 0.00085, ᾱ_999 from the product, and the table agrees everywhere checked', () => {
  const ac = alphasCumprod(cfg);
  close(ac[0], 0.99915, 1e-12);
  for (const t of [1, 500, 951, 999]) close(ac[t], abar(t), 1e-12);
  close(sigma(999), 14.6146, 1e-4); // SD 1.5's σ_max as diffusers prints init_noise_sigma
});

test('DDIM "leading" timesteps: arange(N)·(1000//N) reversed + 1', () => {
  assert.deepEqual(
    inferenceTimesteps(cfg, 20, 'leading', true),
    Array.from({ length: 20 }, (_, i) => 951 - 50 * i),
  );
  assert.deepEqual(new DdimScheduler(cfg, 3).timesteps, [667, 334, 1]); // 1000//3 = 333
  assert.deepEqual(inferenceTimesteps(cfg, 4, 'trailing', true), [999, 749, 499, 249]);
  assert.deepEqual(inferenceTimesteps(cfg, 4, 'linspace', true), [999, 666, 333, 0]); // 333, 666 round 332.99…
});

test('DDIM first step, last step (ᾱ_prev = ᾱ_0) and η noise match the DDIM formula', () => {
  const s = new DdimScheduler(cfg, 20);
  const x = Float32Array.of(1, -2, 0.5),
    eps = Float32Array.of(0.5, 0.1, -1);
  const out = s.step(eps, 0, x, new Rng(0)); // t = 951 → prev 901
  const x0 = (xi: number, e: number, t: number) => (xi - Math.sqrt(1 - abar(t)) * e) / Math.sqrt(abar(t));
  const ddim = (xi: number, e: number, t: number, ap: number) => Math.sqrt(ap) * x0(xi, e, t) + Math.sqrt(1 - ap) * e;
  closeArr(
    out,
    [0, 1, 2].map((k) => ddim(x[k], eps[k], 951, abar(901))),
  );
  const last = s.step(eps, 19, x, new Rng(0)); // t = 1 → prev −49: ᾱ_prev = ᾱ_0
  closeArr(
    last,
    [0, 1, 2].map((k) => ddim(x[k], eps[k], 1, abar(0))),
  );
  // η = 1: σ = √((1−ᾱ_p)/(1−ᾱ_t)·(1−ᾱ_t/ᾱ_p)), direction √(1−ᾱ_p−σ²)·ε, plus σ·z
  const sEta = new DdimScheduler(cfg, 20, { eta: 1 });
  const sd = Math.sqrt(((1 - abar(901)) / (1 - abar(951))) * (1 - abar(951) / abar(901)));
  const z = new Rng(7);
  const want = [0, 1, 2].map(
    (k) => Math.sqrt(abar(901)) * x0(x[k], eps[k], 951) + Math.sqrt(1 - abar(901) - sd * sd) * eps[k] + sd * z.normal(),
  );
  closeArr(sEta.step(eps, 0, x, new Rng(7)), want);
  assert.equal(s.initNoiseSigma, 1);
  assert.equal(s.scaleModelInput(x), x);
});

test('Euler ancestral: linspace timesteps, interpolated σ, init σ, scale_model_input and the first step', () => {
  const s = new EulerAncestralScheduler(cfg, 20);
  close(s.timesteps[0], 999);
  close(s.timesteps[1], Math.fround(999 - 999 / 19));
  assert.equal(s.timesteps[19], 0);
  const t1 = 999 - 999 / 19,
    lo = Math.floor(t1); // np.interp between integer timesteps
  const sigma1 = sigma(lo) + (t1 - lo) * (sigma(lo + 1) - sigma(lo));
  close(s.sigmas[1], sigma1, 1e-6);
  assert.equal(s.sigmas[20], 0);
  close(s.initNoiseSigma, sigma(999)); // "linspace": σ_max
  const x = Float32Array.of(3, -1);
  closeArr(s.scaleModelInput(x, 0), [3 / Math.sqrt(sigma(999) ** 2 + 1), -1 / Math.sqrt(sigma(999) ** 2 + 1)]);
  const eps = Float32Array.of(0.2, -0.4);
  const [sf, st] = [sigma(999), sigma1];
  const up = Math.sqrt((st ** 2 * (sf ** 2 - st ** 2)) / sf ** 2),
    down = Math.sqrt(st ** 2 - up ** 2);
  const z = new Rng(3);
  const want = [0, 1].map((k) => {
    const x0 = x[k] - sf * eps[k];
    return x[k] + ((x[k] - x0) / sf) * (down - sf) + z.normal() * up;
  });
  closeArr(s.step(eps, 0, x, new Rng(3)), want, 1e-5);
});

test('Euler ancestral with "leading" spacing: integer timesteps + offset, init σ = √(σ_max² + 1)', () => {
  const s = new EulerAncestralScheduler(cfg, 20, { spacing: 'leading' });
  assert.equal(s.timesteps[0], 951);
  close(s.initNoiseSigma, Math.sqrt(sigma(951) ** 2 + 1));
});

test('DPM-Solver++ 2M: timesteps, first-order first step and second-order second step', () => {
  const s = new DpmSolverPP2MScheduler(cfg, 20);
  assert.deepEqual(s.timesteps.slice(0, 4), [999, 949, 899, 849]); // linspace(0,999,21).round() reversed
  const vp = (sg: number) => ({ a: 1 / Math.sqrt(sg * sg + 1), s: sg / Math.sqrt(sg * sg + 1), l: Math.log(1 / sg) });
  const [p0, p1, p2] = [sigma(999), sigma(949), sigma(899)].map(vp);
  const x = Float32Array.of(10, -5),
    e0 = Float32Array.of(0.3, 0.9),
    e1 = Float32Array.of(-0.2, 0.4);
  const x1 = s.step(e0, 0, x);
  const m0 = [0, 1].map((k) => (x[k] - p0.s * e0[k]) / p0.a);
  const h1 = p1.l - p0.l;
  const want1 = [0, 1].map((k) => (p1.s / p0.s) * x[k] - p1.a * (Math.exp(-h1) - 1) * m0[k]);
  closeArr(x1, want1, 1e-5);
  const x2 = s.step(e1, 1, x1);
  const m1 = [0, 1].map((k) => (x1[k] - p1.s * e1[k]) / p1.a);
  const h2 = p2.l - p1.l,
    r = h1 / h2;
  const want2 = [0, 1].map(
    (k) =>
      (p2.s / p1.s) * x1[k] -
      p2.a * (Math.exp(-h2) - 1) * m1[k] -
      (0.5 * p2.a * (Math.exp(-h2) - 1) * (m1[k] - m0[k])) / r,
  );
  closeArr(x2, want2, 1e-5);
});

test('a full DDIM run with ε = 0 keeps x/√ᾱ: x_T·√(ᾱ_0/ᾱ_951) at the end', () => {
  const s = makeScheduler('ddim', 20);
  let x = Float32Array.of(1);
  s.timesteps.forEach((_, i) => {
    x = s.step(Float32Array.of(0), i, x, new Rng(0));
  });
  close(x[0], Math.sqrt(abar(0) / abar(951)), 1e-6);
});

test('makeScheduler rejects bad step counts with a UserError', () => {
  assert.throws(
    () => makeScheduler('ddim', 0),
    (e) => isUserError(e) && /steps/.test((e as Error).message),
  );
});
