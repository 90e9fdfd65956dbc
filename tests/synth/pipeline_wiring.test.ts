/**
 * The pipeline's wiring checked with the known-function models of probe_models.ts: the guided noise
 * prediction equals the formula computed here for every export variant (timestep [B] / scalar / int64,
 * int32 / int64 ids, ControlNet with and without the conditioning_scale input, float16), CFG on and off,
 * and a whole generate() equals a reference loop written here from diffusers' pipeline order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '../../lib/engine/rng.js';
import { ControlNetPipeline } from '../../lib/synth/pipeline.js';
import { resolveModelFolder } from '../../lib/synth/model_folder.js';
import { makeScheduler, SchedulerName } from '../../lib/synth/schedulers/index.js';
import { halfBitsToFloat, floatToHalfBits } from '../../lib/synth/half.js';
import { PROBE, ProbeOptions, writeProbeFolder } from './probe_models.js';

const BASE: ProbeOptions = {
  scaleInput: true,
  timestepRank: 1,
  timestepType: 'float',
  idsType: 'int32',
  float16: false,
};
const SIZE = 64,
  LAT = [1, 4, 8, 8];
const N = LAT.reduce((a, b) => a * b, 1);
const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
const half = (v: number) => halfBitsToFloat(floatToHalfBits(v));

async function probePipeline(o: Partial<ProbeOptions> = {}): Promise<{ pipe: ControlNetPipeline; o: ProbeOptions }> {
  const full = { ...BASE, ...o };
  const dir = writeProbeFolder(fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-probe-')), full);
  return { pipe: await ControlNetPipeline.load(resolveModelFolder(dir), ['cpu'], 1), o: full };
}

interface Case {
  prompt: string;
  negative: string;
  guidance: number;
  cs: number;
  t: number;
}

/** ε from the probe formulas: per item b, a·x + Σ_i (i+1)·cs·q_b + c·m(h_b) + d·t, q_b = m(cond) + β·m(h_b) + τ·t + ρ·m(x). */
function expectedEps(
  pipe: ControlNetPipeline,
  o: ProbeOptions,
  x: Float32Array,
  control: Float32Array,
  c: Case,
): Float32Array {
  const t = o.timestepType === 'int64' ? Math.trunc(c.t) : o.float16 ? half(c.t) : c.t;
  const mh = (text: string) => mean(pipe.tokenizer.encode(text)) / 1000;
  const eps = (text: string) => {
    const q = mean(control) + PROBE.beta * mh(text) + PROBE.tau * t + PROBE.rho * mean(x);
    return x.map((v) => PROBE.a * v + 91 * c.cs * q + PROBE.c * mh(text) + PROBE.d * t); // Σ_{i=0..12} (i+1) = 91
  };
  const cond = eps(c.prompt);
  if (c.guidance <= 1) return cond;
  const unc = eps(c.negative);
  return unc.map((u, k) => u + c.guidance * (cond[k] - u));
}

async function checkPredict(o: Partial<ProbeOptions>, c: Case, tol: number): Promise<void> {
  const { pipe, o: full } = await probePipeline(o);
  const rng = new Rng(1);
  const x = rng.normals(N),
    control = Float32Array.from({ length: 3 * SIZE * SIZE }, () => rng.random());
  const embeds = await pipe.promptEmbeds(c.prompt, c.negative, c.guidance);
  const got = await pipe.predictNoise(
    x,
    LAT,
    c.t,
    embeds,
    { data: control, dims: [1, 3, SIZE, SIZE] },
    { guidance: c.guidance, conditioningScale: c.cs },
  );
  const want = expectedEps(pipe, full, x, control, c);
  want.forEach((w, k) =>
    assert.ok(
      Math.abs(got[k] - w) <= tol * Math.max(1, Math.abs(w)),
      `[${k}] ${got[k]} vs ${w} (${JSON.stringify(o)})`,
    ),
  );
  await pipe.dispose();
}

const C: Case = { prompt: 'a photo of a cat', negative: 'blurry', guidance: 7.5, cs: 0.7, t: 951 };

test('guided ε equals the formula: timestep [B] float, ControlNet with conditioning_scale input', () =>
  checkPredict({}, C, 1e-5));
test('scalar timestep (optimum-style UNet/ControlNet)', () => checkPredict({ timestepRank: 0 }, C, 1e-5));
test('int64 timestep (fraction truncated, as numpy casts) and int64 input_ids', () =>
  checkPredict({ timestepType: 'int64', idsType: 'int64' }, { ...C, t: 946.42 }, 1e-5));
test('ControlNet without a conditioning_scale input: residuals scaled on the host', () =>
  checkPredict({ scaleInput: false }, C, 1e-5));
test('float16 models: converted at the boundary', () => checkPredict({ float16: true }, { ...C, t: 500 }, 2e-2));
test('guidance ≤ 1 runs the conditional branch alone; scale 0 removes the residuals', async () => {
  await checkPredict({}, { ...C, guidance: 1 }, 1e-5);
  await checkPredict({}, { ...C, cs: 0 }, 1e-5);
});

/** diffusers' loop order, written out: latents = randn·σ_init; per step scale input, predict, step; decode /0.18215. */
async function referenceImage(
  pipe: ControlNetPipeline,
  o: ProbeOptions,
  sched: SchedulerName,
  control: Float32Array,
  c: Omit<Case, 't'>,
  seed: number,
  steps: number,
) {
  const s = makeScheduler(sched, steps);
  const rng = new Rng(seed);
  let x = rng.normals(N, s.initNoiseSigma);
  s.timesteps.forEach((t, i) => {
    x = s.step(expectedEps(pipe, o, s.scaleModelInput(x, i), control, { ...c, t }), i, x, rng);
  });
  return { latents: x, image: decodeByHand(x) };
}

/** The probe VAE after the pipeline's scaling: clip((z/0.18215)/2 + 0.5) of channels 0–2, nearest ×8. */
function decodeByHand(x: Float32Array): Float32Array {
  const img = new Float32Array(3 * SIZE * SIZE);
  for (let ch = 0; ch < 3; ch++)
    for (let y = 0; y < SIZE; y++)
      for (let xx = 0; xx < SIZE; xx++) {
        const z = x[ch * 64 + Math.floor(y / 8) * 8 + Math.floor(xx / 8)] / 0.18215;
        img[ch * SIZE * SIZE + y * SIZE + xx] = Math.min(1, Math.max(0, z / 2 + 0.5));
      }
  return img;
}

test('decode: vae_decoder(latents / 0.18215), then clip(x/2 + 0.5, 0, 1)', async () => {
  const { pipe } = await probePipeline();
  const x = new Rng(9).normals(N, 0.1);
  const got = await pipe.decode(x, LAT);
  const want = decodeByHand(x);
  assert.ok(
    want.some((w) => w > 0.05 && w < 0.95),
    'values inside (0, 1), not only clipped ones',
  );
  want.forEach((w, k) => assert.ok(Math.abs(got[k] - w) < 1e-6, `[${k}] ${got[k]} vs ${w}`));
  await pipe.dispose();
});

for (const sched of ['ddim', 'euler-a', 'dpmpp-2m'] as const) {
  test(`generate() with ${sched} equals the reference loop`, async () => {
    const { pipe, o } = await probePipeline();
    const control = Float32Array.from({ length: 3 * SIZE * SIZE }, (_, k) => (k % 7) / 7);
    const c = { prompt: 'a photo of a dog', negative: '', guidance: 3, cs: 0.5 };
    const r = await pipe.generate({
      prompt: c.prompt,
      negativePrompt: c.negative,
      control,
      width: SIZE,
      height: SIZE,
      steps: 4,
      guidance: c.guidance,
      scheduler: sched,
      conditioningScale: c.cs,
      seed: 42,
    });
    const want = await referenceImage(pipe, o, sched, control, c, 42, 4);
    assert.equal(r.stepMs.length, 4);
    want.latents.forEach((w, k) =>
      assert.ok(Math.abs(r.latents[k] - w) <= 1e-4 * Math.max(1, Math.abs(w)), `latent [${k}] ${r.latents[k]} vs ${w}`),
    );
    want.image.forEach((w, k) => assert.ok(Math.abs(r.image[k] - w) < 1e-4, `[${k}] ${r.image[k]} vs ${w}`));
    await pipe.dispose();
  });
}
