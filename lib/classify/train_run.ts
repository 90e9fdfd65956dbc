/**
 * One classifier run, start to finish, as a folder of plain files (docs/contracts.md "Runs"):
 *   <dir>/config.json    every resolved parameter, backbone provenance, data counts, backend, versions
 *   <dir>/log.jsonl      split=train: one row per step; split=train_epoch / val: one row per epoch (val has
 *                        acc/<class> per class and `real_order_sha1`, a digest of the real samples in the order
 *                        the loader actually yielded them, so two runs' real data can be compared from files)
 *   <dir>/metrics.json   best epoch (by val accuracy, earliest on ties), final epoch, per-epoch curve
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initEngine } from '../engine/backend.js';
import { Rng, seedFrom } from '../engine/rng.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { RunDir } from '../io/run_dir.js';
import { progress } from '../viz/progress.js';
import { buildClassifier, BackboneProvenance } from './backbone_weights.js';
import { classMetrics, ClassMetrics } from './class_metrics.js';
import { ClassifierTrainer, cosineLr, predictBatch } from './classifier_step.js';
import { ClassifierParams, resolveClassifierParams, ClassifierTrainParams } from './classifier_params.js';
import { ClassifierSample, CropsData, readCropsData, readSynthData, SynthData } from './crop_samples.js';
import { batchStream, BatchMode, ImageCache, PixelBatch } from './image_cache.js';
import { epochSamples, toBatches } from './sample_order.js';
import type { CropClassifier } from './classifier_model.js';
import { checkpointTensors } from '../detr/weights.js';
import { writeSafetensors } from '../io/safetensors.js';

/** The classifier's tensors in PyTorch layout by name: the backbone's are DETR's (`model.backbone.conv_encoder.model.*`). */
function saveClassifierWeights(file: string, model: CropClassifier): void {
  writeSafetensors(file, checkpointTensors(model.params, 'F32'), {
    format: 'pt',
    backbone: JSON.stringify(model.cfg.backbone),
    num_classes: String(model.cfg.numClasses),
  });
}

export interface RunSpec {
  /** `real`, `real_synth`, … (goes into config.json and the reports). */
  name: string;
  dir: string;
  params: ClassifierTrainParams;
  /** Synthetic images folder whose rare-class images join the training set; undefined = real only. */
  synth?: string;
  /** Write the final weights to `<dir>/model.safetensors` (DETR backbone names + the head). */
  saveWeights?: boolean;
}

export interface EpochRecord {
  epoch: number;
  train_loss: number;
  train_acc: number;
  val_loss: number;
  val_acc: number;
  balanced_acc: number;
  rare_acc: number | null;
  real_order_sha1: string;
}
export interface EvalRecord extends ClassMetrics {
  epoch: number;
}
export interface RunMetrics {
  name: string;
  seed: number;
  classes: string[];
  rare: string[];
  counts: { train_real: Record<string, number>; train_synth: Record<string, number>; val: Record<string, number> };
  best: EvalRecord;
  final: EvalRecord;
  epochs: EpochRecord[];
  backbone: BackboneProvenance;
  backend: string;
  seconds: number;
  train_img_per_s: number;
}

export interface RunHooks {
  onSteps?(n: number, info: Record<string, number | string>): void;
  /** Every training batch exactly as the model receives it (tests compare what two runs were fed). */
  onBatch?(batch: PixelBatch, epoch: number): void;
}

const countBy = (xs: ClassifierSample[], classes: string[]): Record<string, number> => {
  const out = Object.fromEntries(classes.map((c) => [c, 0]));
  for (const x of xs) out[x.class]++;
  return out;
};

/** Steps a run of these sizes takes (for progress totals). */
export const runSteps = (nTrain: number, batchSize: number, epochs: number): number =>
  epochs * Math.ceil(nTrain / batchSize);

/** The data of a run: real crops and, when `synth` is given, the rare classes' synthetic images. */
export function runData(p: ClassifierTrainParams, synth?: string): { crops: CropsData; synth?: SynthData } {
  const crops = readCropsData(p.crops, { maxPerClass: p.maxPerClass, rarePerClass: p.rarePerClass, seed: p.seed });
  return { crops, synth: synth ? readSynthData(synth, crops) : undefined };
}

async function evaluate(
  model: CropClassifier,
  cache: ImageCache,
  crops: CropsData,
  p: ClassifierTrainParams,
): Promise<{ m: ClassMetrics; loss: number }> {
  const mode: BatchMode = { train: false, aug: p, seed: p.seed, epoch: 0 };
  const pred: number[] = [];
  let lossSum = 0;
  for await (const b of batchStream(cache, toBatches(crops.val, p.batchSize), mode)) {
    const r = await predictBatch(model, b);
    pred.push(...r.pred);
    lossSum += r.lossSum;
  }
  return {
    m: classMetrics(
      crops.val.map((s) => s.label),
      pred,
      crops.classes,
      crops.rare,
    ),
    loss: lossSum / crops.val.length,
  };
}

interface Ctx {
  spec: RunSpec;
  model: CropClassifier;
  trainer: ClassifierTrainer;
  cache: ImageCache;
  run: RunDir;
  hooks: RunHooks;
  stepsDone: number;
}

async function trainEpoch(
  c: Ctx,
  train: ClassifierSample[],
  synth: ClassifierSample[],
  epoch: number,
): Promise<{ loss: number; acc: number; sha1: string; images: number; ms: number }> {
  const p = c.spec.params;
  const batches = toBatches(epochSamples(train, synth, p.seed, epoch), p.batchSize);
  const digest = createHash('sha1');
  let lossSum = 0,
    correct = 0,
    count = 0,
    ms = 0;
  let i = 0;
  for await (const b of batchStream(c.cache, batches, { train: true, aug: p, seed: p.seed, epoch })) {
    for (const s of b.samples) if (s.source === 'real') digest.update(s.key + '\n');
    c.hooks.onBatch?.(b, epoch);
    const t = (epoch + i / batches.length) / p.epochs;
    const lrs = { lr: cosineLr(p.lr, t), lrBackbone: cosineLr(p.lrBackbone, t) };
    const t0 = performance.now();
    const r = await c.trainer.step(b, lrs);
    ms += performance.now() - t0;
    lossSum += r.loss * r.count;
    correct += r.correct;
    count += r.count;
    c.stepsDone++;
    c.run.log({
      split: 'train',
      epoch,
      step: c.stepsDone,
      loss: r.loss,
      acc: r.correct / r.count,
      lr: lrs.lr,
      lr_backbone: lrs.lrBackbone,
    });
    c.hooks.onSteps?.(1, { run: c.spec.name, epoch, loss: r.loss });
    i++;
  }
  return { loss: lossSum / count, acc: correct / count, sha1: digest.digest('hex'), images: count, ms };
}

/** Trains one run and writes its folder; returns what metrics.json holds. */
export async function trainRun(spec: RunSpec, hooks: RunHooks = {}): Promise<RunMetrics> {
  const p = spec.params,
    t0 = performance.now();
  const engine = await initEngine({ backend: p.backend, log: null });
  const { crops, synth } = runData(p, spec.synth);
  const { model, provenance } = await buildClassifier({
    backboneWeights: p.backboneWeights,
    arch: p.arch,
    numClasses: crops.classes.length,
    freezeBackbone: p.freezeBackbone,
    trainableFrom: p.trainableFrom,
    batchNorm: p.batchNorm,
    rng: new Rng(seedFrom('classify-init', p.seed)),
  });
  const trainer = new ClassifierTrainer(model, p);
  for (const f of ['log.jsonl', 'metrics.json']) fs.rmSync(path.join(spec.dir, f), { force: true });
  const run = new RunDir(spec.dir);
  const synthSamples = synth?.samples ?? [];
  const counts = {
    train_real: countBy(crops.train, crops.classes),
    train_synth: countBy(synthSamples, crops.classes),
    val: countBy(crops.val, crops.classes),
  };
  run.writeConfig({
    name: spec.name,
    params: p,
    synth: spec.synth ?? null,
    synthProvenance: synth?.provenance ?? [],
    synthIgnored: synth?.ignored ?? 0,
    backbone: provenance,
    counts,
    classes: crops.classes,
    rare: crops.rare,
    backend: engine.backend,
    versions: engine.versions,
  });
  const ctx: Ctx = { spec, model, trainer, cache: new ImageCache(p.cacheMb * 2 ** 20), run, hooks, stepsDone: 0 };
  const epochs: EpochRecord[] = [],
    evals: EvalRecord[] = [];
  let trainImages = 0,
    trainMs = 0;
  try {
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      const tr = await trainEpoch(ctx, crops.train, synthSamples, epoch);
      trainImages += tr.images;
      trainMs += tr.ms;
      const { m, loss } = await evaluate(model, ctx.cache, crops, p);
      evals.push({ epoch, ...m });
      epochs.push({
        epoch,
        train_loss: tr.loss,
        train_acc: tr.acc,
        val_loss: loss,
        val_acc: m.accuracy,
        balanced_acc: m.balancedAccuracy,
        rare_acc: m.rareAccuracy,
        real_order_sha1: tr.sha1,
      });
      run.log({
        split: 'train_epoch',
        epoch,
        step: ctx.stepsDone,
        loss: tr.loss,
        acc: tr.acc,
        real_order_sha1: tr.sha1,
      });
      run.log({
        split: 'val',
        epoch,
        step: ctx.stepsDone,
        loss,
        acc: m.accuracy,
        balanced_acc: m.balancedAccuracy,
        rare_acc: m.rareAccuracy,
        ...Object.fromEntries(Object.entries(m.perClass).map(([c, v]) => [`acc/${c}`, v])),
      });
    }
    if (spec.saveWeights) saveClassifierWeights(run.path('model.safetensors'), model);
  } finally {
    trainer.dispose();
    model.dispose();
  }
  const best = evals.reduce((a, e) => (e.accuracy > a.accuracy ? e : a));
  const metrics: RunMetrics = {
    name: spec.name,
    seed: p.seed,
    classes: crops.classes,
    rare: crops.rare,
    counts,
    best,
    final: evals[evals.length - 1],
    epochs,
    backbone: provenance,
    backend: engine.backend,
    seconds: (performance.now() - t0) / 1000,
    train_img_per_s: trainImages / (trainMs / 1000),
  };
  writeJsonAtomic(run.path('metrics.json'), metrics);
  return metrics;
}

/** `detrlab train-classifier`: one run in `outputDir` (real crops, plus the rare classes' synthetic images when `synth` is set). */
export async function trainClassifier(overrides: Partial<ClassifierParams> = {}): Promise<RunMetrics> {
  const { synth, outputDir, saveWeights, ...params } = resolveClassifierParams(overrides);
  const data = runData(params, synth || undefined);
  const n = data.crops.train.length + (data.synth?.samples.length ?? 0);
  const bar = progress({
    total: runSteps(n, params.batchSize, params.epochs),
    label: 'train-classifier',
    unit: 'step',
  });
  const m = await trainRun(
    { name: synth ? 'real_synth' : 'real', dir: outputDir, params, synth: synth || undefined, saveWeights },
    { onSteps: (k, info) => bar.tick(k, info) },
  );
  bar.done({ best_val_acc: m.best.accuracy });
  return m;
}
