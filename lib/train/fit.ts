/**
 * `detrlab train` / notebook 03: fine-tune DETR on a subset (the DETR recipe: AdamW with a backbone
 * group, clipping 0.1, StepLR), logging to log.jsonl + TensorBoard, a profiler trace, loss curves each
 * epoch, COCO val metrics, and atomic checkpoints (`last` each epoch, `best` by val mAP) that `--resume`
 * continues exactly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initEngine, EngineInfo } from '../engine/backend.js';
import { Rng } from '../engine/rng.js';
import { loadDetectionSplit, DetectionSplit } from '../data/dataset.js';
import { DetrLoader } from '../data/loader.js';
import { AUGMENT_PRESETS, AugmentConfig, AugmentName } from '../data/augment.js';
import { readCocoDataset } from '../cocoeval/results_io.js';
import { annotationFile } from '../coco/subset_types.js';
import { UserError } from '../params/user_error.js';
import { progress } from '../viz/progress.js';
import { TrainParams, resolveTrain, lrsAt } from './config.js';
import { RunDir } from '../io/run_dir.js';
import { SummaryWriter } from './tensorboard/writer.js';
import { TraceRecorder, traceWindow } from './trace.js';
import { decideAmp } from './amp.js';
import { loadTrainModel, makeTrainer } from './setup.js';
import { defaultWorkers } from '../engine/workers.js';
import { recoverDir, writeJsonAtomic } from '../io/atomic.js';
import { readCheckpoint, writeCheckpoint, TrainerState, LoadedTrainingCheckpoint } from './checkpoint.js';
import { runEpoch } from './epoch.js';
import { epochHeader, epochLine } from './console_table.js';
import { validate, Validation } from './validate.js';
import { logValImages } from './tb_images.js';
import { writeLossCurves } from './loss_curves.js';
import { Trainer } from './trainer.js';
import { DetrModel } from '../detr/model.js';
import { LabelMap } from '../coco/subset_types.js';
import { toCocoIdLabels } from './label_space.js';
import { RunLock } from '../io/run_lock.js';
import type { StageOverrides } from '../params/overrides.js';
import { writeRunRecord } from '../io/run_record.js';

export interface TrainResult {
  runDir: string;
  steps: number;
  epochsDone: number;
  epochs: number;
  seconds: number;
  stoppedEarly: boolean;
  best: { map: number; epoch: number } | null;
  last?: Record<string, number>;
  tracePath?: string;
  engine: EngineInfo;
  workers: number;
  imgPerSec: number;
}

/** `auto`: the demo sizes for the demo model (128-px images), DETR's for every other model. */
export const effectiveAugment = (p: Pick<TrainParams, 'augment' | 'modelName' | 'weights'>): AugmentName =>
  p.augment !== 'auto'
    ? p.augment
    : !p.weights && (p.modelName === 'demo' || p.modelName === 'scratch:demo')
      ? 'demo'
      : 'detr';

function augmentFor(p: TrainParams): AugmentConfig {
  const base = AUGMENT_PRESETS[effectiveAugment(p)];
  return { ...base, ...(p.valSize ? { valSize: p.valSize } : {}), ...(p.maxSize ? { maxSize: p.maxSize } : {}) };
}

/**
 * Refuses to mix two runs in one folder; `--overwrite` clears the old one, `--resume` continues it. Runs
 * with the folder's lock held (fit.ts `train`), so no live run is touched; leftovers of a killed run
 * (half-written checkpoint folders, temp files) are removed here.
 */
function prepareRunDir(p: TrainParams): RunDir {
  const has = fs.existsSync(path.join(p.outputDir, 'config.json'));
  for (const c of ['last', 'best']) recoverDir(path.join(p.outputDir, 'checkpoints', c));
  if (p.resume && !fs.existsSync(path.join(p.outputDir, 'checkpoints', 'last')))
    throw new UserError(`--resume: no checkpoint in ${p.outputDir}/checkpoints/last`);
  if (has && !p.resume && !p.overwrite)
    throw new UserError(
      `${p.outputDir} already holds a run; use --resume to continue it, --overwrite to start over, or another --output-dir`,
    );
  if (has && p.overwrite)
    for (const d of ['checkpoints', 'tb', 'plots', 'log.jsonl', 'metrics', 'train_summary.json'])
      fs.rmSync(path.join(p.outputDir, d), { recursive: true, force: true });
  removeOrphans(p.outputDir);
  return new RunDir(p.outputDir);
}

/** Temp files and folders a killed run left (`checkpoints/.last.tmp-<pid>-<n>`, `.config.json.<pid>.<n>.tmp`, …). */
export function removeOrphans(dir: string): string[] {
  const removed: string[] = [];
  for (const d of [dir, path.join(dir, 'checkpoints'), path.join(dir, 'metrics'), path.join(dir, 'plots')]) {
    if (!fs.existsSync(d)) continue;
    for (const name of fs.readdirSync(d)) {
      if (!/^\..+\.tmp-\d+(-\d+)?$|^\..+\.\d+\.\d+\.tmp$|^log\.jsonl\.tmp-\d+$/.test(name)) continue;
      fs.rmSync(path.join(d, name), { recursive: true, force: true });
      removed.push(path.join(d, name));
    }
  }
  if (removed.length)
    console.warn(
      `[train] removed ${removed.length} leftover(s) of an interrupted run: ${removed.map((f) => path.relative(dir, f)).join(', ')}`,
    );
  return removed;
}

/** Settings a resumed run must share with the checkpoint (else the result is neither run). */
const RESUME_KEYS = ['seed', 'batchSize', 'lr', 'lrBackbone', 'lrDrop', 'dataRoot'] as const;

/** `--resume` refuses changed settings unless `--allow-changed-settings`; returns what changed. */
export function checkResumeSettings(
  p: TrainParams,
  recorded: Record<string, unknown> | undefined,
  where: string,
): Record<string, { was: unknown; now: unknown }> {
  if (!recorded) return {};
  const norm = (k: string, v: unknown) => (k === 'dataRoot' && typeof v === 'string' ? path.resolve(v) : v);
  const changed: Record<string, { was: unknown; now: unknown }> = {};
  for (const k of RESUME_KEYS) {
    if (recorded[k] === undefined) continue;
    if (norm(k, recorded[k]) !== norm(k, p[k])) changed[k] = { was: recorded[k], now: p[k] };
  }
  const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const list = Object.entries(changed).map(([k, c]) => `${flag(k)} ${c.was} (now ${c.now})`);
  if (list.length && !p.allowChangedSettings) {
    throw new UserError(
      `--resume: ${where} was trained with ${list.join(', ')}; pass the recorded values, or add --allow-changed-settings to continue with the new ones`,
    );
  }
  if (list.length) console.warn(`[train] resuming with changed settings: ${list.join(', ')}`);
  return changed;
}

/** Refuses a run with nothing to train on (no images, all files missing, fewer images than a batch). */
function checkTrainable(s: DetectionSplit, loader: DetrLoader, p: TrainParams): void {
  const n = s.records.length;
  if (n === 0)
    throw new UserError(
      `the train split of ${p.dataRoot} has no images; check the subset (detrlab subset) or --data-root`,
    );
  const present = s.records.filter((r) => fs.existsSync(r.file)).length;
  if (present === 0)
    throw new UserError(
      `none of the ${n} train images of ${p.dataRoot} exist (e.g. ${s.records[0].file}); are the images downloaded / is --data-root right?`,
    );
  if (present < n)
    console.warn(
      `warning: ${n - present} of ${n} train images are missing (e.g. ${s.records.find((r) => !fs.existsSync(r.file))!.file}); they are skipped`,
    );
  if (loader.batchesPerEpoch === 0 || present < p.batchSize)
    throw new UserError(
      `${present} train images are fewer than --batch-size ${p.batchSize}: no full batch to train on`,
    );
}

const limitSplit = (s: DetectionSplit, n: number): DetectionSplit =>
  n > 0 ? { ...s, records: s.records.slice(0, n) } : s;

async function saveCheckpoint(
  trainer: Trainer,
  model: DetrModel,
  labels: LabelMap,
  dir: string,
  state: TrainerState,
  dtype: 'F32' | 'F16',
): Promise<void> {
  writeCheckpoint(
    dir,
    model,
    await trainer.exportParams(),
    { names: labels.classes, categoryIds: labels.categoryIds },
    await trainer.exportOptimizer(),
    state,
    dtype,
  );
}

/**
 * The val row of log.jsonl and the `val/…` TensorBoard scalars (docs/tensorboard.md lists every tag).
 * `epoch` −1 (with `before_training: true`) is the validation of the starting model, epoch 0 of the results.
 */
function logValidation(
  v: Validation,
  step: number,
  epoch: number,
  run: RunDir,
  tb: SummaryWriter,
): Record<string, number> {
  const s = v.evaluation.eval.statsByName as unknown as Record<string, number>;
  run.log({
    split: 'val',
    step,
    epoch,
    ...(epoch < 0 ? { before_training: true } : {}),
    ...s,
    ...v.losses,
    val_seconds: v.evaluation.counts.seconds,
  });
  tb.scalars(
    {
      mAP: s.map,
      mAP50: s.map_50,
      AP75: s.map_75,
      AP_small: s.map_small,
      AP_medium: s.map_medium,
      AP_large: s.map_large,
      AR1: s.mar_1,
      AR10: s.mar_10,
      AR100: s.mar_100,
    },
    step,
    'val/',
  );
  const l = v.losses;
  tb.scalars(
    { loss_ce: l.loss_ce, loss_bbox: l.loss_bbox, loss_giou: l.loss_giou, loss_total: l.loss_total },
    step,
    'val/',
  );
  return s;
}

export async function train(overrides: StageOverrides<TrainParams> = {}): Promise<TrainResult> {
  const p = resolveTrain(overrides);
  const lock = RunLock.acquire(p.outputDir, '--output-dir'); // before anything in the folder is written or removed
  try {
    return await trainLocked(p);
  } finally {
    lock.release();
  }
}

async function trainLocked(p: TrainParams): Promise<TrainResult> {
  const engine = await initEngine({ backend: p.backend });
  const amp = decideAmp(p.amp, engine.backend);
  if (p.amp) console.warn(`[train] ${amp.reason}`);
  const fresh = !fs.existsSync(p.outputDir);
  const run = prepareRunDir(p);
  const resume: LoadedTrainingCheckpoint | undefined = p.resume
    ? readCheckpoint(run.path('checkpoints', 'last'))
    : undefined;
  const changedOnResume = resume
    ? checkResumeSettings(
        p,
        resume.state.config ?? run.readConfig<{ params?: Record<string, unknown> }>()?.params,
        p.outputDir,
      )
    : {};
  const relabel = (s: DetectionSplit) => (p.cocoIdLabels ? toCocoIdLabels(s) : s);
  const [trainSplit, valSplit] = (
    await Promise.all([loadDetectionSplit(p.dataRoot, 'train'), loadDetectionSplit(p.dataRoot, 'val')])
  ).map(relabel);
  const labels = trainSplit.labelMap;
  const augment = augmentFor(p);
  const trainLoader = new DetrLoader(trainSplit, { batchSize: p.batchSize, train: true, augment, seed: p.seed });
  checkTrainable(trainSplit, trainLoader, p);
  const workers = defaultWorkers(p.workers, engine);
  const valLoader = new DetrLoader(limitSplit(valSplit, p.valMaxImages), {
    batchSize: Math.max(p.batchSize, 2 * workers),
    train: false,
    augment,
    seed: p.seed,
  });
  const gt = readCocoDataset(path.join(p.dataRoot, annotationFile('val')));
  const { model, report, source } = await loadTrainModel(p, labels, new Rng(p.seed), resume?.weights).catch(
    (e: unknown) => {
      if (fresh && fs.readdirSync(p.outputDir).length === 0) fs.rmdirSync(p.outputDir); // no empty run folder left behind
      throw e;
    },
  );
  const trainer = await makeTrainer(model, p, engine, workers);
  if (resume) await trainer.importOptimizer(resume.optimizer);
  run.writeConfig({
    stage: 'train',
    params: p,
    resolvedModel: model.cfg,
    modelSource: source,
    loadReport: report,
    labels,
    augment,
    amp,
    engine,
    workers,
    splits: { train: trainSplit.stats, val: valSplit.stats },
    resumedFrom: resume?.state ?? null,
    changedOnResume,
    startedAt: new Date().toISOString(),
  });
  writeRunRecord(run.root, { dataRoot: p.dataRoot, augment, classes: labels.classes }); // what later stages read
  console.error(
    `[train] ${source}; ${trainSplit.records.length} train / ${valLoader.split.records.length} val images, ${labels.classes.length} classes; ${engine.backend} × ${workers} worker(s)`,
  );
  if (report?.reinitialised.length)
    console.error(
      `[train] class head re-initialised for K=${labels.classes.length}: ${report.reinitialised.join(', ')}`,
    );
  try {
    return await loop(p, { run, trainer, model, labels, trainLoader, valLoader, gt, engine, workers, resume });
  } finally {
    await trainer.dispose();
  }
}

interface LoopDeps {
  run: RunDir;
  trainer: Trainer;
  model: DetrModel;
  labels: LabelMap;
  trainLoader: DetrLoader;
  valLoader: DetrLoader;
  gt: ReturnType<typeof readCocoDataset>;
  engine: EngineInfo;
  workers: number;
  resume?: LoadedTrainingCheckpoint;
}

async function loop(p: TrainParams, d: LoopDeps): Promise<TrainResult> {
  const { run, trainer, model, labels } = d;
  const st = d.resume?.state;
  let epoch = st ? (st.epochComplete ? st.epoch + 1 : st.epoch) : 0;
  let startBatch = st && !st.epochComplete ? st.batchInEpoch : 0;
  let step = st?.step ?? 0;
  let best = st?.bestMetric != null ? { map: st.bestMetric, epoch: st.bestEpoch ?? 0 } : null;
  if (st) run.truncateLog(step);
  const tb = new SummaryWriter(run.path('tb'));
  if (st) tb.sessionStart(step + 1);
  tb.text('config', '```json\n' + JSON.stringify(p, null, 2) + '\n```', step);
  const trace = new TraceRecorder(`detrlab train (${d.engine.backend} × ${d.workers})`);
  const perEpoch = d.trainLoader.batchesPerEpoch;
  const totalSteps = p.maxSteps > 0 ? Math.min(p.maxSteps, perEpoch * p.epochs) : perEpoch * p.epochs;
  const traced = traceWindow(p.traceStart, p.traceSteps, totalSteps, step);
  console.log(epochHeader());
  if (p.evalBefore && !st) {
    const e0 = Date.now();
    const before = logValidation(await validate(trainer, d.valLoader, d.gt, model.cfg), 0, -1, run, tb);
    console.log(
      epochLine({
        epoch: -1,
        epochs: p.epochs,
        step: 0,
        train: {},
        val: before,
        imgPerSec: NaN,
        seconds: (Date.now() - e0) / 1000,
      }),
    );
  }
  const bar = progress({ total: totalSteps, start: step, label: `epoch ${epoch + 1}/${p.epochs}`, unit: 'step' });
  const state = (e: number, b: number, complete: boolean): TrainerState => ({
    epoch: e,
    batchInEpoch: b,
    step,
    bestMetric: best?.map ?? null,
    bestEpoch: best?.epoch ?? null,
    lrs: lrsAt(p, e),
    seed: p.seed,
    epochComplete: complete,
    savedAt: new Date().toISOString(),
    config: p as unknown as Record<string, unknown>,
  });
  const t0 = Date.now();
  let seen = 0,
    stopped = false,
    last: Record<string, number> | undefined;
  for (; epoch < p.epochs && !stopped; epoch++, startBatch = 0) {
    const lrs = lrsAt(p, epoch);
    const e0 = Date.now();
    bar.setLabel(`epoch ${epoch + 1}/${p.epochs}`);
    const afterStep =
      p.checkpointEvery > 0
        ? async (s: number, b: number) => {
            if (s % p.checkpointEvery === 0) {
              step = s;
              await saveCheckpoint(
                trainer,
                model,
                labels,
                run.path('checkpoints', 'last'),
                state(epoch, b, false),
                p.saveDtype,
              );
            }
          }
        : undefined;
    const r = await runEpoch({
      trainer,
      loader: d.trainLoader,
      run,
      tb,
      trace,
      bar,
      lrs,
      epoch,
      startBatch,
      step,
      maxSteps: p.maxSteps,
      traceFrom: traced.from,
      traceTo: traced.to,
      afterStep,
    });
    if (r.seen === 0 && startBatch < perEpoch)
      throw new UserError(
        `epoch ${epoch + 1} ran no step: every train image was skipped (see the warnings above); nothing was saved`,
      );
    step = r.step;
    seen += r.seen;
    stopped = r.stopped || (p.maxSteps > 0 && step >= p.maxSteps);
    const evalNow = stopped || epoch === p.epochs - 1 || (p.evalEvery > 0 && (epoch + 1) % p.evalEvery === 0);
    const trainSeconds = (Date.now() - e0) / 1000;
    let val: Record<string, number> | undefined;
    if (evalNow) {
      const v = await validate(trainer, d.valLoader, d.gt, model.cfg);
      val = last = logValidation(v, step, epoch, run, tb);
      if (p.tbImages > 0)
        await logValImages(
          tb,
          d.valLoader.split.records,
          v.evaluation.results,
          d.valLoader.split.labelMap,
          p.tbImages,
          step,
        );
      if (!best || last.map > best.map) {
        best = { map: last.map, epoch };
        await saveCheckpoint(
          trainer,
          model,
          labels,
          run.path('checkpoints', 'best'),
          state(epoch, 0, true),
          p.saveDtype,
        );
      }
    }
    bar.log(
      epochLine({
        epoch,
        epochs: p.epochs,
        step,
        train: r.meanTerms,
        val,
        imgPerSec: r.seen / Math.max(1e-3, trainSeconds),
        seconds: (Date.now() - e0) / 1000,
      }),
    );
    await saveCheckpoint(
      trainer,
      model,
      labels,
      run.path('checkpoints', 'last'),
      r.stopped ? state(epoch, r.batchIndex, false) : state(epoch, 0, true),
      p.saveDtype,
    );
    await writeLossCurves(run.readLog(), run.path('plots', 'loss_curves.png'));
    tb.flush();
  }
  bar.done();
  const tracePath = p.traceSteps > 0 ? trace.writeUnder(run.path('tb')) : undefined;
  tb.close();
  const result: TrainResult = {
    runDir: run.root,
    steps: step,
    epochsDone: epoch,
    epochs: p.epochs,
    stoppedEarly: stopped,
    best,
    last,
    tracePath,
    engine: d.engine,
    workers: d.workers,
    imgPerSec: seen / Math.max(1e-3, (Date.now() - t0) / 1000),
    seconds: (Date.now() - t0) / 1000,
  };
  writeJsonAtomic(run.path('train_summary.json'), { ...result, engine: d.engine.backend });
  return result;
}
