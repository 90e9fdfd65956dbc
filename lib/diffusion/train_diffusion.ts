/**
 * `detrlab train-diffusion`: trains tiny-sd (tiny_sd_model.ts) on the train crops of a crops folder, in two phases:
 *   1. autoencoder: loss = mean|x̂ − x| + mean (x̂ − x)² + λ·mean z²  (x in [−1,1], random left–right flips);
 *      then scalingFactor = 1 / std of the latents of all train crops (how SD's `scaling_factor` was chosen).
 *   2. diffusion (text encoder + UNet + ControlNet jointly, autoencoder frozen): DDPM ε-prediction,
 *      x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε, t ~ U{0..999}, ᾱ from SD 1.5's scaled-linear β (lib/synth/schedulers),
 *      loss = mean (ε̂ − ε)²; the prompt is replaced by "" or the default negative prompt with probability
 *      `promptDrop` (classifier-free guidance; Ho & Salimans 2022); the ControlNet always sees the crop's canny map.
 *   3. decoder (optional, `decoderSteps` > 0): the autoencoder's decoder is replaced by a wider one (`decoderChannels`,
 *      `decoderBlocks` residual blocks per resolution) trained on the frozen encoder's latents, so the diffusion
 *      latents and the UNet stay valid (how SD's ft-MSE decoder was fine-tuned): loss = mean|x̂ − x| + mean (x̂ − x)²
 *      + gdlWeight · GDL, the gradient difference loss of Mathieu, Couprie & LeCun 2016 (α = 1):
 *      mean | |∂x x̂| − |∂x x| | + mean | |∂y x̂| − |∂y x| |, which penalises the blur an L2 loss prefers.
 *   4. tune (optional, `tuneSteps` > 0): more training of text encoder + UNet + ControlNet with the phase-2 loss, from
 *      the end of phase 2, with its own warm-up and cosine (a warm restart, Loshchilov & Hutter 2017, "SGDR"):
 *      continued training as SD's later versions continued earlier ones. A finished run can be given phases 3 and 4
 *      later: the settings of a phase that has not begun do not change the checkpoint, so they are not compared.
 * Every random draw of step k comes from Rng(seedFrom(seed, phase, k)), so a run resumed from a checkpoint
 * (written atomically every `checkpointEvery` steps) continues bit-identically.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../engine/backend.js';
import { Rng, seedFrom } from '../engine/rng.js';
import { readJson, recoverDir, replaceDirAtomic } from '../io/atomic.js';
import { readSafetensors, toFloat32, writeSafetensors } from '../io/safetensors.js';
import { UserError } from '../params/user_error.js';
import { AdamW, AdamWState, gradNormScale } from '../train/optimizer.js';
import { optimizerTensors } from '../train/checkpoint.js';
import { ClipTokenizer } from '../synth/clip_tokenizer.js';
import { DEFAULT_NEGATIVE_PROMPT, DEFAULT_PROMPT_TEMPLATE, promptFor } from '../synth/prompts.js';
import { alphasCumprod, SD15_NOISE_SCHEDULE } from '../synth/schedulers/noise_schedule.js';
import { progress } from '../viz/progress.js';
import { controlInto, DiffusionData, loadDiffusionData, pixelsInto } from './diffusion_data.js';
import { TfOps } from './ops.js';
import {
  DecoderConfig,
  decoderSpecs,
  DEFAULT_TINY_SD,
  initValues,
  paramSpecs,
  TinySd,
  TinySdConfig,
} from './tiny_sd_model.js';
import { tinySdTokenizerFiles } from './tokenizer_files.js';
import { exportModelFolder } from './export_onnx.js';
import { TrainDiffusionParams } from './train_diffusion_params.js';

export type Phase = 'vae' | 'diffusion' | 'decoder' | 'tune' | 'done';
export type TrainPhase = Exclude<Phase, 'done'>;
export interface DiffusionState {
  phase: Phase;
  step: number;
  scalingFactor: number | null;
  seed: number;
  cfg: TinySdConfig;
  classes: string[];
  trainSeconds: number;
  lastLoss: number | null;
  /** Phases finished, in order (absent in checkpoints made before phases 3 and 4 existed). */
  finished?: TrainPhase[];
  savedAt: string;
  params: Record<string, unknown>;
}

/** Parameters each phase trains. */
export const phaseParams = (phase: TrainPhase, names: string[]): string[] =>
  names.filter((n) =>
    phase === 'vae' ? n.startsWith('vae.') : phase === 'decoder' ? n.startsWith('vae.dec.') : !n.startsWith('vae.'),
  );

/** The phases in training order. */
export const PHASES: readonly TrainPhase[] = ['vae', 'diffusion', 'decoder', 'tune'];
/** The run settings that only matter once their phase has begun. */
const PHASE_KEYS: Partial<Record<TrainPhase, string[]>> = {
  decoder: ['decoderSteps', 'decoderLr', 'decoderChannels', 'decoderBlocks', 'gdlWeight'],
  tune: ['tuneSteps', 'tuneLr'],
};

/** The phase after `from` that has steps to do ('done' when none). */
export const nextPhaseAfter = (p: TrainDiffusionParams, from: TrainPhase): Phase =>
  PHASES.slice(PHASES.indexOf(from) + 1).find((ph) => phaseSteps(p, ph) > 0) ?? 'done';

/** Phases a checkpoint has finished (older checkpoints: vae, diffusion, and decoder when it has one). */
const finishedOf = (s: DiffusionState): TrainPhase[] => {
  if (s.finished) return s.finished;
  const i = s.phase === 'done' ? PHASES.length : PHASES.indexOf(s.phase);
  const before = PHASES.slice(0, Math.min(i, 2));
  return (s.phase === 'done' || s.phase === 'tune') && s.cfg.decoder ? [...before, 'decoder'] : before;
};

/** The decoder a run's phase 3 trains (tiny_sd_model.ts `DecoderConfig`). */
export const decoderOf = (p: TrainDiffusionParams): DecoderConfig => {
  if (p.decoderChannels.length !== 4 || p.decoderChannels.some((c) => !Number.isInteger(c) || c < 1))
    throw new UserError(
      `--decoder-channels needs 4 positive integers (S, S/2, S/4, S/8), got ${p.decoderChannels.join(',')}`,
    );
  return { channels: p.decoderChannels as [number, number, number, number], blocks: p.decoderBlocks };
};

/** Settings added after checkpoints were first written, with the value those checkpoints were made with. */
const LEGACY_DEFAULTS: Record<string, unknown> = { vaeChannels: DEFAULT_TINY_SD.vaeChannels, vaeBlocks: 0 };

/** The autoencoder channels of a run (`--vae-channels`). */
const vaeChannelsOf = (p: TrainDiffusionParams): [number, number, number, number] => {
  if (p.vaeChannels.length !== 4 || p.vaeChannels.some((c) => !Number.isInteger(c) || c < 1))
    throw new UserError(`--vae-channels needs 4 positive integers (S, S/2, S/4, S/8), got ${p.vaeChannels.join(',')}`);
  return p.vaeChannels as [number, number, number, number];
};

/** Steps of each phase. */
const phaseSteps = (p: TrainDiffusionParams, ph: TrainPhase): number =>
  ({ vae: p.vaeSteps, diffusion: p.steps, decoder: p.decoderSteps, tune: p.tuneSteps })[ph];
const phaseLr = (p: TrainDiffusionParams, ph: TrainPhase): number =>
  ({ vae: p.vaeLr, diffusion: p.lr, decoder: p.decoderLr, tune: p.tuneLr })[ph];

/** The prompts a training batch may use: one per class, then the two unconditional ones. */
export const trainingPrompts = (classes: string[]): string[] => [
  ...classes.map((c) => promptFor(DEFAULT_PROMPT_TEMPLATE, c)),
  '',
  DEFAULT_NEGATIVE_PROMPT,
];

export class DiffusionTrainer {
  readonly vars = new Map<string, tf.Variable>();
  model: TinySd<tf.Tensor>;
  private optimizer?: AdamW;
  private latents?: Float32Array; // [2N, h·h·4] (unflipped, flipped), × scalingFactor
  private rawLatents?: Float32Array; // the same, unscaled (decoder phase)
  private promptIds?: Int32Array; // [P,77]
  private readonly abar = alphasCumprod(SD15_NOISE_SCHEDULE);

  constructor(
    public cfg: TinySdConfig,
    readonly data: DiffusionData,
    readonly p: TrainDiffusionParams,
    public state: DiffusionState,
    values: Map<string, Float32Array>,
  ) {
    for (const s of paramSpecs(cfg))
      this.vars.set(s.name, tf.variable(tf.tensor(values.get(s.name)!, s.shape), true, s.name));
    this.model = new TinySd(cfg, new TfOps(this.vars as Map<string, tf.Tensor>, cfg.vocabSize));
  }

  private makeOptimizer(phase: TrainPhase): AdamW {
    const names = phaseParams(phase, [...this.vars.keys()]);
    return new AdamW([
      {
        name: phase,
        lr: phaseLr(this.p, phase),
        weightDecay: 0,
        params: new Map(names.map((n) => [n, this.vars.get(n)!])),
      },
    ]);
  }

  async prepare(tokenizer: ClipTokenizer, optim?: AdamWState): Promise<void> {
    const ph = this.state.phase;
    if (ph === 'done') return;
    this.optimizer = this.makeOptimizer(ph);
    if (optim) this.optimizer.loadState(optim);
    if (ph === 'diffusion' || ph === 'tune') await this.prepareDiffusion(tokenizer);
    if (ph === 'decoder') this.rawLatents = await this.encodeAll();
  }

  /**
   * Replaces the decoder by `dec` with fresh weights (Rng(seedFrom('tiny-sd-decoder-init', seed))); the
   * encoder, text encoder, UNet and ControlNet are untouched.
   */
  replaceDecoder(dec: DecoderConfig): void {
    for (const [k, v] of [...this.vars])
      if (k.startsWith('vae.dec.')) {
        v.dispose();
        this.vars.delete(k);
      }
    this.cfg = { ...this.cfg, decoder: dec };
    this.state.cfg = this.cfg;
    const specs = decoderSpecs(this.cfg);
    const init = initValues(specs, new Rng(seedFrom('tiny-sd-decoder-init', this.state.seed)));
    for (const sp of specs) this.vars.set(sp.name, tf.variable(tf.tensor(init.get(sp.name)!, sp.shape), true, sp.name));
    // keep paramSpecs order (checkpoint layout, gradient-norm summation order), as a resumed run builds it
    const byName = new Map(this.vars);
    this.vars.clear();
    for (const sp of paramSpecs(this.cfg)) this.vars.set(sp.name, byName.get(sp.name)!);
    this.model = new TinySd(this.cfg, new TfOps(this.vars as Map<string, tf.Tensor>, this.cfg.vocabSize));
  }

  /** Starts `ph` at step 0 with a fresh optimizer (phase 3 first replaces the decoder). */
  async enterPhase(ph: Phase): Promise<void> {
    this.optimizer?.dispose();
    this.optimizer = undefined;
    this.rawLatents = undefined;
    this.state.phase = ph;
    this.state.step = 0;
    if (ph === 'done') return;
    if (ph === 'decoder') this.replaceDecoder(decoderOf(this.p));
    this.optimizer = this.makeOptimizer(ph);
    if (ph === 'decoder') this.rawLatents = await this.encodeAll();
    else if ((ph === 'diffusion' || ph === 'tune') && !this.latents) await this.prepareDiffusion(this.tokenizer!);
  }

  /** A finished run whose settings now ask for a later phase continues into it. */
  async continueFinished(): Promise<void> {
    if (this.state.phase !== 'done') return;
    const finished = finishedOf(this.state);
    const next = nextPhaseAfter(this.p, finished[finished.length - 1]);
    this.state.finished = finished;
    if (next !== 'done') await this.enterPhase(next);
  }

  private async prepareDiffusion(tokenizer: ClipTokenizer): Promise<void> {
    const prompts = trainingPrompts(this.data.classes);
    this.promptIds = Int32Array.from(prompts.flatMap((t) => tokenizer.encode(t)));
    const raw = await this.encodeAll();
    if (this.state.scalingFactor === null) {
      let s = 0,
        s2 = 0;
      for (const v of raw) {
        s += v;
        s2 += v * v;
      }
      const mean = s / raw.length;
      this.state.scalingFactor = 1 / Math.sqrt(s2 / raw.length - mean * mean);
    }
    const f = this.state.scalingFactor;
    this.latents = raw.map((v) => v * f);
  }

  /** Latents of every train crop, unflipped then flipped: [2N, h, h, 4] raw (unscaled). */
  async encodeAll(): Promise<Float32Array> {
    const n = this.data.labels.length,
      s = this.cfg.imageSize,
      h = s / 8,
      per = h * h * this.cfg.latentChannels;
    const out = new Float32Array(2 * n * per);
    const bar = progress({ total: 2 * n, label: 'encode latents', unit: 'crop', quiet: this.p.quiet });
    const bs = 64;
    for (let k = 0; k < 2 * n; k += bs) {
      const m = Math.min(bs, 2 * n - k),
        px = new Float32Array(m * s * s * 3);
      for (let j = 0; j < m; j++) pixelsInto(this.data, (k + j) % n, k + j >= n, px, j * s * s * 3);
      const z = tf.tidy(() => this.model.vaeEncode(tf.tensor4d(px, [m, s, s, 3])));
      out.set(await z.data(), k * per);
      z.dispose();
      bar.tick(m);
    }
    bar.done();
    return out;
  }

  /** One optimizer step of the current phase; returns the loss. */
  async step(): Promise<number> {
    const ph = this.state.phase;
    if (ph === 'done') throw new Error('training is done');
    const rng = new Rng(seedFrom('train-diffusion', this.state.seed, ph, this.state.step));
    const lossFn =
      ph === 'vae' ? this.vaeLoss(rng) : ph === 'decoder' ? this.decoderLoss(rng) : this.diffusionLoss(rng);
    const names = phaseParams(ph, [...this.vars.keys()]);
    const { value, grads } = tf.variableGrads(
      lossFn,
      names.map((n) => this.vars.get(n)!),
    );
    const byName = new Map<string, tf.Tensor>(names.map((n) => [n, grads[n]]));
    const clip = await gradNormScale(byName, 1);
    const total = phaseSteps(this.p, ph);
    const warm = Math.min(1, (this.state.step + 1) / 100);
    const cos = 0.5 * (1 + Math.cos((Math.PI * this.state.step) / total));
    this.optimizer!.setLr(ph, phaseLr(this.p, ph) * warm * (0.1 + 0.9 * cos));
    this.optimizer!.apply(byName, clip.coef);
    tf.dispose(Object.values(grads));
    const loss = (await value.data())[0];
    value.dispose();
    if (!Number.isFinite(loss)) throw new Error(`train-diffusion: loss is ${loss} at ${ph} step ${this.state.step}`);
    this.state.step += 1;
    this.state.lastLoss = loss;
    if (this.state.step >= total) await this.nextPhase();
    return loss;
  }

  private vaeLoss(rng: Rng): () => tf.Scalar {
    const b = this.p.batch,
      s = this.cfg.imageSize,
      n = this.data.labels.length;
    const px = new Float32Array(b * s * s * 3);
    for (let j = 0; j < b; j++) pixelsInto(this.data, rng.int(0, n - 1), rng.bool(), px, j * s * s * 3);
    return () => {
      const x = tf.tensor4d(px, [b, s, s, 3]);
      const z = this.model.vaeEncode(x);
      const d = tf.sub(this.model.vaeDecode(z), x);
      return tf.addN([
        tf.mean(tf.abs(d)),
        tf.mean(tf.square(d)),
        tf.mul(tf.mean(tf.square(z)), this.p.latentPenalty),
      ]) as tf.Scalar;
    };
  }

  /** Phase 3: decodes cached frozen-encoder latents; L1 + L2 + gdlWeight · GDL against the crop. */
  private decoderLoss(rng: Rng): () => tf.Scalar {
    const b = this.p.batch,
      s = this.cfg.imageSize,
      h = s / 8,
      c = this.cfg.latentChannels,
      n = this.data.labels.length,
      per = h * h * c;
    const px = new Float32Array(b * s * s * 3),
      z = new Float32Array(b * per);
    for (let j = 0; j < b; j++) {
      const i = rng.int(0, n - 1),
        flip = rng.bool();
      pixelsInto(this.data, i, flip, px, j * s * s * 3);
      z.set(this.rawLatents!.subarray((flip ? n + i : i) * per, (flip ? n + i + 1 : i + 1) * per), j * per);
    }
    return () => {
      const x = tf.tensor4d(px, [b, s, s, 3]);
      const y = this.model.vaeDecode(tf.tensor4d(z, [b, h, h, c]));
      const d = tf.sub(y, x);
      return tf.addN([
        tf.mean(tf.abs(d)),
        tf.mean(tf.square(d)),
        tf.mul(gradientDifference(y, x), this.p.gdlWeight),
      ]) as tf.Scalar;
    };
  }

  private diffusionLoss(rng: Rng): () => tf.Scalar {
    const b = this.p.batch,
      s = this.cfg.imageSize,
      h = s / 8,
      c = this.cfg.latentChannels,
      n = this.data.labels.length;
    const per = h * h * c,
      nPrompts = this.data.classes.length + 2;
    const xt = new Float32Array(b * per),
      eps = new Float32Array(b * per),
      ts = new Float32Array(b);
    const cond = new Float32Array(b * s * s * 3),
      pick = new Int32Array(b);
    for (let j = 0; j < b; j++) {
      const i = rng.int(0, n - 1),
        flip = rng.bool(),
        t = rng.int(0, 999);
      const drop = rng.random() < this.p.promptDrop;
      pick[j] = drop ? this.data.classes.length + rng.int(0, 1) : this.data.labels[i];
      ts[j] = t;
      const a = Math.sqrt(this.abar[t]),
        sg = Math.sqrt(1 - this.abar[t]);
      const x0 = this.latents!.subarray((flip ? n + i : i) * per, (flip ? n + i + 1 : i + 1) * per);
      const e = rng.normals(per);
      eps.set(e, j * per);
      for (let k = 0; k < per; k++) xt[j * per + k] = a * x0[k] + sg * e[k];
      controlInto(this.data, i, flip, cond, j * s * s * 3);
    }
    return () => {
      const ctxAll = this.model.text(tf.tensor2d(this.promptIds!, [nPrompts, 77], 'int32')); // [P,77,D]
      const sel = tf.oneHot(tf.tensor1d(pick, 'int32'), nPrompts) as tf.Tensor2D; // [B,P]
      const ctx = tf.reshape(tf.matMul(sel, tf.reshape(ctxAll, [nPrompts, -1]) as tf.Tensor2D), [
        b,
        77,
        this.cfg.textDim,
      ]);
      const x = tf.tensor4d(xt, [b, h, h, c]),
        t = tf.tensor1d(ts);
      const res = this.model.controlnet(x, t, ctx, tf.tensor4d(cond, [b, s, s, 3]));
      const pred = this.model.unet(x, t, ctx, res);
      return tf.mean(tf.square(tf.sub(pred, tf.tensor4d(eps, [b, h, h, c])))) as tf.Scalar;
    };
  }

  private async nextPhase(): Promise<void> {
    const from = this.state.phase as TrainPhase;
    this.state.finished = [...finishedOf(this.state), from];
    await this.enterPhase(nextPhaseAfter(this.p, from));
  }
  tokenizer?: ClipTokenizer;

  async values(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const [k, v] of this.vars) out.set(k, (await v.data()) as Float32Array);
    return out;
  }

  /** Writes `<dir>` (model.safetensors, optimizer.safetensors, trainer_state.json) atomically. */
  async save(dir: string): Promise<void> {
    const values = await this.values();
    const optim = this.optimizer ? await this.optimizer.state() : undefined;
    this.state.savedAt = new Date().toISOString();
    replaceDirAtomic(dir, (tmp) => {
      writeSafetensors(
        path.join(tmp, 'model.safetensors'),
        new Map(
          [...values].map(([k, v]) => [k, { dtype: 'F32' as const, shape: [...this.vars.get(k)!.shape], data: v }]),
        ),
      );
      if (optim)
        writeSafetensors(path.join(tmp, 'optimizer.safetensors'), optimizerTensors(optim), {
          step: String(optim.step),
          lrs: JSON.stringify(optim.lrs),
        });
      fs.writeFileSync(path.join(tmp, 'trainer_state.json'), JSON.stringify(this.state, null, 2) + '\n');
    });
  }

  dispose(): void {
    this.optimizer?.dispose();
    for (const v of this.vars.values()) v.dispose();
  }
}

/**
 * Gradient difference loss (Mathieu, Couprie & LeCun 2016, "Deep multi-scale video prediction beyond mean square
 * error", eq. 5 with α = 1), as a mean over pixels and channels: mean | |y(i,j)−y(i,j−1)| − |x(i,j)−x(i,j−1)| | plus
 * the same along the other image axis. y, x: [B,H,W,C].
 */
export function gradientDifference(y: tf.Tensor, x: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const [b, hh, ww, c] = y.shape;
    const along = (t: tf.Tensor, axis: 1 | 2) => {
      const size = axis === 1 ? [b, hh - 1, ww, c] : [b, hh, ww - 1, c];
      const start = axis === 1 ? [0, 1, 0, 0] : [0, 0, 1, 0];
      return tf.abs(tf.sub(tf.slice(t, start, size), tf.slice(t, [0, 0, 0, 0], size)));
    };
    return tf.add(
      tf.mean(tf.abs(tf.sub(along(y, 2), along(x, 2)))),
      tf.mean(tf.abs(tf.sub(along(y, 1), along(x, 1)))),
    ) as tf.Scalar;
  });
}

export interface LoadedDiffusionCheckpoint {
  state: DiffusionState;
  values: Map<string, Float32Array>;
  optimizer?: AdamWState;
}

export function readDiffusionCheckpoint(dir: string): LoadedDiffusionCheckpoint {
  recoverDir(dir);
  const stateFile = path.join(dir, 'trainer_state.json');
  if (!fs.existsSync(stateFile))
    throw new UserError(`no train-diffusion checkpoint in ${dir} (trainer_state.json missing)`);
  const state = readJson<DiffusionState>(stateFile);
  const values = new Map(
    [...readSafetensors(path.join(dir, 'model.safetensors')).tensors].map(([k, t]) => [k, toFloat32(t)]),
  );
  const optFile = path.join(dir, 'optimizer.safetensors');
  let optimizer: AdamWState | undefined;
  if (fs.existsSync(optFile)) {
    const opt = readSafetensors(optFile);
    const m = new Map<string, Float32Array>(),
      v = new Map<string, Float32Array>();
    for (const [k, t] of opt.tensors) {
      if (k.startsWith('exp_avg_sq.')) v.set(k.slice('exp_avg_sq.'.length), toFloat32(t));
      else if (k.startsWith('exp_avg.')) m.set(k.slice('exp_avg.'.length), toFloat32(t));
    }
    optimizer = { step: Number(opt.metadata.step), lrs: JSON.parse(opt.metadata.lrs ?? '{}'), m, v };
  }
  return { state, values, optimizer };
}

/** The run-defining parameters: a checkpoint made with other ones is not resumed. */
const runKey = (p: TrainDiffusionParams) => ({
  size: p.size,
  batch: p.batch,
  vaeSteps: p.vaeSteps,
  vaeChannels: p.vaeChannels,
  vaeBlocks: p.vaeBlocks,
  steps: p.steps,
  decoderSteps: p.decoderSteps,
  decoderLr: p.decoderLr,
  decoderChannels: p.decoderChannels,
  decoderBlocks: p.decoderBlocks,
  gdlWeight: p.gdlWeight,
  tuneSteps: p.tuneSteps,
  tuneLr: p.tuneLr,
  lr: p.lr,
  vaeLr: p.vaeLr,
  seed: p.seed,
  promptDrop: p.promptDrop,
  latentPenalty: p.latentPenalty,
  cannyLow: p.cannyLow,
  cannyHigh: p.cannyHigh,
});

export interface TrainDiffusionResult {
  state: DiffusionState;
  checkpoint: string;
  stoppedEarly: boolean;
}

/** Trains (or resumes) into `<out>/checkpoints/last`; stops after `maxSteps` steps of this process when > 0. */
export async function trainDiffusion(p: TrainDiffusionParams): Promise<TrainDiffusionResult> {
  await initEngine({ backend: p.backend as never, log: p.quiet ? null : undefined });
  const ckpt = path.join(p.out, 'checkpoints', 'last');
  const tokenizer = await ClipTokenizer.fromFiles(tinySdTokenizerFiles());
  const data = await loadDiffusionData(p.crops, p.size, { low: p.cannyLow, high: p.cannyHigh, blurSigma: 0 }, p.quiet);
  let trainer: DiffusionTrainer;
  let optim: AdamWState | undefined;
  if (
    fs.existsSync(path.join(ckpt, 'trainer_state.json')) ||
    fs.existsSync(path.join(path.dirname(ckpt), '.last.old'))
  ) {
    const c = readDiffusionCheckpoint(ckpt);
    // the settings of a phase that has not begun cannot have changed the checkpoint: not compared
    const begun = new Set<string>([...finishedOf(c.state), c.state.phase]);
    const later = new Set(
      Object.entries(PHASE_KEYS)
        .filter(([ph]) => !begun.has(ph))
        .flatMap(([, keys]) => keys),
    );
    // a setting a checkpoint does not record predates it: the checkpoint was made with its default
    const recorded = (k: string) => c.state.params[k] ?? LEGACY_DEFAULTS[k];
    const diff = Object.entries(runKey(p))
      .filter(([k, v]) => !later.has(k) && JSON.stringify(recorded(k)) !== JSON.stringify(v))
      .map(([k]) => k);
    if (diff.length)
      throw new UserError(
        `${ckpt} was trained with other settings (${diff.map((k) => `${k}: ${JSON.stringify(recorded(k))}`).join('; ')}); use another --out or delete it`,
      );
    if (JSON.stringify(c.state.classes) !== JSON.stringify(data.classes))
      throw new UserError(
        `${ckpt} was trained on classes ${c.state.classes.join(', ')}; ${p.crops} has ${data.classes.join(', ')}`,
      );
    trainer = new DiffusionTrainer(c.state.cfg, data, p, c.state, c.values);
    optim = c.optimizer;
    c.state.params = { ...c.state.params, ...runKey(p) };
  } else {
    const cfg: TinySdConfig = {
      ...DEFAULT_TINY_SD,
      vaeChannels: vaeChannelsOf(p),
      ...(p.vaeBlocks > 0 ? { vaeBlocks: p.vaeBlocks } : {}),
      imageSize: p.size,
      vocabSize: Object.keys(tinySdTokenizerFiles().vocab).length,
    };
    const state: DiffusionState = {
      phase: 'vae',
      step: 0,
      scalingFactor: null,
      seed: p.seed,
      cfg,
      classes: data.classes,
      trainSeconds: 0,
      lastLoss: null,
      savedAt: '',
      params: runKey(p),
    };
    trainer = new DiffusionTrainer(
      cfg,
      data,
      p,
      state,
      initValues(paramSpecs(cfg), new Rng(seedFrom('tiny-sd-init', p.seed))),
    );
  }
  trainer.tokenizer = tokenizer;
  await trainer.prepare(tokenizer, optim);
  await trainer.continueFinished();
  let done = 0,
    stoppedEarly = false;
  let bar = phaseBar(trainer.state, p);
  let since = performance.now();
  try {
    while (trainer.state.phase !== 'done') {
      if (p.maxSteps > 0 && done >= p.maxSteps) {
        stoppedEarly = true;
        break;
      }
      const phase = trainer.state.phase;
      const loss = await trainer.step();
      done++;
      const now = performance.now();
      trainer.state.trainSeconds += (now - since) / 1000;
      since = now;
      bar.tick(1, { loss: loss.toFixed(4) });
      if (trainer.state.phase !== phase) {
        bar.done();
        await trainer.save(ckpt);
        bar = phaseBar(trainer.state, p);
        since = performance.now();
      } else if (trainer.state.step % p.checkpointEvery === 0) await trainer.save(ckpt);
    }
    bar.done();
    await trainer.save(ckpt);
    return { state: trainer.state, checkpoint: ckpt, stoppedEarly };
  } finally {
    trainer.dispose();
  }
}

function phaseBar(s: DiffusionState, p: TrainDiffusionParams) {
  const total = s.phase === 'done' ? 0 : phaseSteps(p, s.phase);
  return progress({
    total,
    start: s.step,
    label: `train-diffusion ${s.phase}`,
    unit: 'step',
    quiet: p.quiet || s.phase === 'done',
  });
}

/** Exports `<out>/checkpoints/last` as a model folder; returns its path. */
export function exportCheckpoint(p: TrainDiffusionParams): string {
  const c = readDiffusionCheckpoint(path.join(p.out, 'checkpoints', 'last'));
  if (c.state.scalingFactor === null)
    throw new UserError(`${p.out}: the autoencoder phase is not finished (no scaling factor yet); nothing to export`);
  const dir = p.exportDir || path.join(p.out, 'model');
  exportModelFolder(
    dir,
    c.state.cfg,
    c.values,
    { float16: p.float16, scalingFactor: c.state.scalingFactor },
    {
      phase: c.state.phase,
      step: c.state.step,
      trainSeconds: Math.round(c.state.trainSeconds),
      classes: c.state.classes,
      params: c.state.params,
    },
  );
  return dir;
}
