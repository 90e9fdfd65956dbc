/**
 * What a training run starts from: the model (pretrained, demo, scratch, or the run's own last
 * checkpoint) with its class head for the subset's K classes, and the trainer that runs it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DetrModel } from '../detr/model.js';
import { DEMO_DETR_WEIGHTS, loadDetr } from '../detr/pretrained.js';
import { resolveDetr, DetrPreset, DETR_PRESETS } from '../detr/config.js';
import { LoadReport, loadCheckpoint } from '../detr/weights.js';
import { BACKBONE_PREFIX } from '../detr/backbone.js';
import { LabelMap } from '../coco/subset_types.js';
import { Rng } from '../engine/rng.js';
import { EngineInfo } from '../engine/backend.js';
import { projectRoot } from '../io/paths.js';
import { didYouMean } from '../params/did_you_mean.js';
import { UserError } from '../params/user_error.js';
import { TrainParams } from './config.js';
import { InProcessTrainer, ThreadTrainer, Trainer } from './trainer.js';

/** The demo DETR's weights as an absolute path (`DEMO_DETR_WEIGHTS` under the project root). */
export const DEMO_WEIGHTS = path.join(projectRoot(), DEMO_DETR_WEIGHTS);

export interface ModelSource {
  model: DetrModel;
  report?: LoadReport;
  source: string;
}

export async function loadTrainModel(
  p: TrainParams,
  labels: LabelMap,
  rng: Rng,
  resumeWeights?: string,
): Promise<ModelSource> {
  const src = await loadModelSource(p, labels, rng, resumeWeights);
  // Training uses the DETR recipe's auxiliary losses whatever the checkpoint's config.json says.
  if (src.model.cfg.auxLoss === p.auxLoss) return src;
  return { ...src, model: new DetrModel({ ...src.model.cfg, auxLoss: p.auxLoss }, src.model.params) };
}

async function loadModelSource(
  p: TrainParams,
  labels: LabelMap,
  rng: Rng,
  resumeWeights?: string,
): Promise<ModelSource> {
  const k = p.numClasses || labels.classes.length;
  if (k !== labels.classes.length)
    throw new UserError(`--num-classes ${k} does not match label_map.json (${labels.classes.length} classes)`);
  const common = {
    numClasses: k,
    categoryIds: labels.categoryIds,
    headInit: p.headInit,
    rng,
    cacheDir: path.join(p.cacheDir, ...p.modelName.split('/')),
  };
  if (resumeWeights) {
    const r = await loadDetr({ ...common, weights: resumeWeights, headInit: 'reinit' });
    return { ...r, source: `resumed from ${resumeWeights}` };
  }
  if (p.weights) {
    if (!fs.existsSync(p.weights)) throw new UserError(`--weights ${p.weights} does not exist`);
    return { ...(await loadDetr({ ...common, weights: p.weights })), source: p.weights };
  }
  if (p.modelName === 'demo') {
    if (!fs.existsSync(DEMO_WEIGHTS))
      throw new UserError(
        `the demo weights are missing (${DEMO_WEIGHTS}); see models/detr-demo/README.md for the command that makes them`,
      );
    return { ...(await loadDetr({ ...common, weights: DEMO_WEIGHTS })), source: 'demo (models/detr-demo)' };
  }
  if (p.modelName.startsWith('scratch:')) {
    const preset = p.modelName.slice('scratch:'.length) as DetrPreset;
    if (!(preset in DETR_PRESETS))
      throw new UserError(
        `unknown preset in --model-name ${p.modelName}; choose scratch:${Object.keys(DETR_PRESETS).join(' or scratch:')}`,
      );
    const model = DetrModel.create(resolveDetr({ numClasses: k }, preset), rng);
    if (!p.backboneInit) return { model, source: `random init (${preset})` };
    return {
      model,
      report: initBackbone(model, p.backboneInit, rng),
      source: `random init (${preset}), backbone from ${p.backboneInit}`,
    };
  }
  if (!HUB_REPO_RE.test(p.modelName)) {
    const hint = didYouMean(p.modelName, KNOWN_MODEL_NAMES);
    throw new UserError(
      `--model-name '${p.modelName}' is neither demo, scratch:<preset> nor a hub repo id like facebook/detr-resnet-50${hint ? `; ${hint}` : ''}`,
    );
  }
  try {
    return { ...(await loadDetr({ ...common, modelName: p.modelName })), source: `${p.modelName} (Hugging Face hub)` };
  } catch (e) {
    throw hubFailure(p.modelName, e);
  }
}

const HUB_REPO_RE = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
/** Model names detrlab knows by heart (the hub has more). */
export const KNOWN_MODEL_NAMES = [
  'demo',
  'facebook/detr-resnet-50',
  'facebook/detr-resnet-101',
  ...Object.keys(DETR_PRESETS).map((k) => `scratch:${k}`),
];

/** A hub download that failed (offline, a typo in the repo id, a private repo) → a UserError naming the ways out. */
export function hubFailure(repo: string, e: unknown): unknown {
  const msg = (e as Error)?.message ?? String(e);
  const network =
    /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|fetch failed|getaddrinfo|socket hang up/i.test(
      msg,
    );
  const missing = /\b(401|403|404)\b/.test(msg);
  if (!network && !missing) return e;
  const hint = missing ? didYouMean(repo, KNOWN_MODEL_NAMES) : '';
  const why = network
    ? 'the Hugging Face hub cannot be reached'
    : `the hub has no model.safetensors for '${repo}'${hint ? ` (${hint})` : ''}`;
  return new UserError(
    `--model-name ${repo}: ${why} (${msg.split('\n')[0]}). Ways out: --model-name demo (the bundled demo model, ` +
      'no download), --weights FILE (a local model.safetensors), or HF_ENDPOINT=https://<mirror> for a hub mirror',
  );
}

/** Loads every backbone tensor of `file` into `model` (the rest keeps its init); all must be present. */
function initBackbone(model: DetrModel, file: string, rng: Rng): LoadReport {
  if (!fs.existsSync(file)) throw new UserError(`--backbone-init ${file} does not exist`);
  const report = loadCheckpoint(model.params, file, { rng, strict: false });
  const missing = report.missing.filter((n) => n.startsWith(BACKBONE_PREFIX));
  if (missing.length)
    throw new UserError(
      `--backbone-init ${file} lacks ${missing.length} backbone tensors (e.g. ${missing[0]}); is it the same backbone architecture?`,
    );
  if (report.shapeMismatch.length)
    throw new UserError(`--backbone-init ${file}: shape mismatch for ${report.shapeMismatch[0].name}`);
  return report;
}

export async function makeTrainer(
  model: DetrModel,
  p: TrainParams,
  engine: EngineInfo,
  workers: number,
): Promise<Trainer> {
  const opts = {
    optim: { lr: p.lr, lrBackbone: p.lrBackbone, weightDecay: p.weightDecay, clipMaxNorm: p.clipMaxNorm },
    seed: p.seed,
  };
  if (workers <= 1) return new InProcessTrainer(model, opts);
  return ThreadTrainer.start(model, { ...opts, numWorkers: workers, backend: engine.backend });
}
