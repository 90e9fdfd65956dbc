/**
 * `detrlab train-diffusion`: trains tiny-sd (tiny_sd_model.ts) on the train crops of a crops folder, in two phases:
 *   1. autoencoder: loss = mean|x̂ − x| + mean (x̂ − x)² + λ·mean z²  (x in [−1,1], random left–right flips);
 *      then scalingFactor = 1 / std of the latents of all train crops (how SD's `scaling_factor` was chosen).
 *   2. diffusion (text encoder + UNet + ControlNet jointly, autoencoder frozen): DDPM ε-prediction,
 *      x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε, t ~ U{0..999}, ᾱ from SD 1.5's scaled-linear β (lib/synth/schedulers),
 *      loss = mean (ε̂ − ε)²; the prompt is replaced by "" or the default negative prompt with probability
 *      `promptDrop` (classifier-free guidance; Ho & Salimans 2022); the ControlNet always sees the crop's canny map.
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
import { AdamW, AdamWState, clipGradNorm } from '../train/optimizer.js';
import { optimizerTensors } from '../train/checkpoint.js';
import { ClipTokenizer } from '../synth/clip_tokenizer.js';
import { DEFAULT_NEGATIVE_PROMPT, DEFAULT_PROMPT_TEMPLATE, promptFor } from '../synth/prompts.js';
import { alphasCumprod, SD15_NOISE_SCHEDULE } from '../synth/schedulers/noise_schedule.js';
import { progress } from '../viz/progress.js';
import { controlInto, DiffusionData, loadDiffusionData, pixelsInto } from './diffusion_data.js';
import { TfOps } from './ops.js';
import { DEFAULT_TINY_SD, initValues, paramSpecs, TinySd, TinySdConfig } from './tiny_sd_model.js';
import { tinySdTokenizerFiles } from './tokenizer_files.js';
import { exportModelFolder } from './export_onnx.js';
import { TrainDiffusionParams } from './train_diffusion_params.js';

export type Phase = 'vae' | 'diffusion' | 'done';
export interface DiffusionState {
  phase: Phase;
  step: number;
  scalingFactor: number | null;
  seed: number;
  cfg: TinySdConfig;
  classes: string[];
  trainSeconds: number;
  lastLoss: number | null;
  savedAt: string;
  params: Record<string, unknown>;
}

/** Parameters each phase trains. */
export const phaseParams = (phase: 'vae' | 'diffusion', names: string[]): string[] =>
  names.filter((n) => (phase === 'vae' ? n.startsWith('vae.') : !n.startsWith('vae.')));

/** The prompts a training batch may use: one per class, then the two unconditional ones. */
export const trainingPrompts = (classes: string[]): string[] => [
  ...classes.map((c) => promptFor(DEFAULT_PROMPT_TEMPLATE, c)),
  '',
  DEFAULT_NEGATIVE_PROMPT,
];

export class DiffusionTrainer {
  readonly vars = new Map<string, tf.Variable>();
  readonly model: TinySd<tf.Tensor>;
  private optimizer?: AdamW;
  private latents?: Float32Array; // [2N, h·h·4] (unflipped, flipped), × scalingFactor
  private promptIds?: Int32Array; // [P,77]
  private readonly abar = alphasCumprod(SD15_NOISE_SCHEDULE);

  constructor(
    readonly cfg: TinySdConfig,
    readonly data: DiffusionData,
    readonly p: TrainDiffusionParams,
    public state: DiffusionState,
    values: Map<string, Float32Array>,
  ) {
    for (const s of paramSpecs(cfg))
      this.vars.set(s.name, tf.variable(tf.tensor(values.get(s.name)!, s.shape), true, s.name));
    this.model = new TinySd(cfg, new TfOps(this.vars as Map<string, tf.Tensor>, cfg.vocabSize));
  }

  private makeOptimizer(phase: 'vae' | 'diffusion'): AdamW {
    const names = phaseParams(phase, [...this.vars.keys()]);
    return new AdamW([
      {
        name: phase,
        lr: phase === 'vae' ? this.p.vaeLr : this.p.lr,
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
    if (ph === 'diffusion') await this.prepareDiffusion(tokenizer);
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
    const lossFn = ph === 'vae' ? this.vaeLoss(rng) : this.diffusionLoss(rng);
    const names = phaseParams(ph, [...this.vars.keys()]);
    const { value, grads } = tf.variableGrads(
      lossFn,
      names.map((n) => this.vars.get(n)!),
    );
    const byName = new Map<string, tf.Tensor>(names.map((n) => [n, grads[n]]));
    const clipped = await clipGradNorm(byName, 1);
    const total = ph === 'vae' ? this.p.vaeSteps : this.p.steps;
    const warm = Math.min(1, (this.state.step + 1) / 100);
    const cos = 0.5 * (1 + Math.cos((Math.PI * this.state.step) / total));
    this.optimizer!.setLr(ph, (ph === 'vae' ? this.p.vaeLr : this.p.lr) * warm * (0.1 + 0.9 * cos));
    this.optimizer!.apply(clipped.grads);
    tf.dispose([...Object.values(grads), ...clipped.grads.values()]);
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
    this.optimizer?.dispose();
    this.state.phase = this.state.phase === 'vae' ? 'diffusion' : 'done';
    this.state.step = 0;
    this.optimizer = undefined;
    if (this.state.phase === 'diffusion') {
      this.optimizer = this.makeOptimizer('diffusion');
      await this.prepareDiffusion(this.tokenizer!);
    }
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
  steps: p.steps,
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
    const diff = Object.entries(runKey(p))
      .filter(([k, v]) => JSON.stringify(c.state.params[k]) !== JSON.stringify(v))
      .map(([k]) => k);
    if (diff.length)
      throw new UserError(
        `${ckpt} was trained with other settings (${diff.map((k) => `${k}: ${JSON.stringify(c.state.params[k])}`).join('; ')}); use another --out or delete it`,
      );
    if (JSON.stringify(c.state.classes) !== JSON.stringify(data.classes))
      throw new UserError(
        `${ckpt} was trained on classes ${c.state.classes.join(', ')}; ${p.crops} has ${data.classes.join(', ')}`,
      );
    trainer = new DiffusionTrainer(c.state.cfg, data, p, c.state, c.values);
    optim = c.optimizer;
  } else {
    const cfg: TinySdConfig = {
      ...DEFAULT_TINY_SD,
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
  const total = s.phase === 'vae' ? p.vaeSteps : p.steps;
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
