/**
 * `--backbone-weights`: where the classifier's ResNet comes from.
 *   <file>.safetensors   a DETR checkpoint (HF `DetrForObjectDetection` names); the backbone architecture is read
 *                        from the config.json beside it (lib/detr/hf_config.ts), else inferred from tensor shapes
 *   <owner>/<repo>       a hub repo (facebook/detr-resnet-50), downloaded once into data/models/hf (lib/detr/hub.ts)
 *   none                 random init (architecture: the `arch` preset's backbone)
 * Only the backbone tensors are taken (`model.backbone.conv_encoder.model.*`); the head is new. A backbone
 * tensor that is missing or has another shape is an error: a classifier never trains on a half-loaded backbone.
 */
import * as fs from 'node:fs';
import { BackboneConfig } from '../detr/backbone.js';
import { DETR_PRESETS, DetrPreset } from '../detr/config.js';
import { configFromShapes, fromHfConfig } from '../detr/hf_config.js';
import { fetchHubWeights, HubFiles, localWeights } from '../detr/hub.js';
import { ParamStore } from '../detr/param_store.js';
import { DEMO_DETR_WEIGHTS } from '../detr/pretrained.js';
import { loadCheckpoint } from '../detr/weights.js';
import { readSafetensors, SafeTensorsFile } from '../io/safetensors.js';
import { Rng } from '../engine/rng.js';
import { UserError } from '../params/user_error.js';
import { classifierSpecs, ClassifierConfig, CropClassifier, HEAD_BIAS, HEAD_WEIGHT } from './classifier_model.js';
import { readJsonFile } from '../io/json_file.js';

export const COCO_BACKBONE_WEIGHTS = 'facebook/detr-resnet-50';

export interface BuildOptions {
  backboneWeights: string;
  /** Backbone architecture when backboneWeights is `none`. */
  arch: DetrPreset;
  numClasses: number;
  freezeBackbone: boolean;
  /** Which backbone layers fine-tune when not frozen: `layer2` (DETR's rule: stem and layer1 stay) or `all`. */
  trainableFrom: 'layer2' | 'all';
  /** Batch norm of the classifier's backbone: frozen (DETR's) or train (pre-training; BackboneConfig.batchNorm). */
  batchNorm?: 'frozen' | 'train';
  /** Draws the head (and, with `none`, the backbone). */
  rng: Rng;
}

/** What the backbone was initialised from, for config.json and reports. */
export interface BackboneProvenance {
  backboneWeights: string;
  /** The file read (absent for `none`). */
  weightsFile?: string;
  configFile?: string;
  backbone: BackboneConfig;
  /** Backbone tensors loaded from the checkpoint (0 for `none`). */
  loadedTensors: number;
  /** Checkpoint tensors not used (the detector's transformer and heads). */
  skippedTensors: number;
}

const REPO_RE = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** The checkpoint's files (a hub repo is downloaded once and cached; later calls reuse the cache). */
export async function locateBackboneWeights(w: string): Promise<HubFiles> {
  if (fs.existsSync(w)) return localWeights(w);
  if (REPO_RE.test(w) && !w.endsWith('.safetensors')) return fetchHubWeights(w);
  const hint = w === DEMO_DETR_WEIGHTS ? ' (the demo DETR weights come with the detection stage)' : '';
  throw new UserError(
    `--backbone-weights '${w}' does not exist${hint}; give a DETR model.safetensors, a hub repo id such as ${COCO_BACKBONE_WEIGHTS}, or 'none' for a random-init backbone`,
  );
}

/** The checkpoint's backbone architecture: its config.json, else its tensor shapes. */
function checkpointBackbone(files: HubFiles, ckpt: SafeTensorsFile): BackboneConfig {
  if (files.config) {
    return fromHfConfig(readJsonFile(files.config, { what: 'the model config beside the weights' }), files.config).cfg
      .backbone;
  }
  return configFromShapes(new Map([...ckpt.tensors].map(([n, t]) => [n, t.shape])), 8, files.weights).backbone;
}

function loadBackbone(
  cfg: ClassifierConfig,
  ckpt: SafeTensorsFile,
  rng: Rng,
  where: string,
): { store: ParamStore; loaded: number } {
  const store = new ParamStore(classifierSpecs(cfg));
  try {
    const report = loadCheckpoint(store, ckpt, { rng, strict: false });
    const head = new Set([HEAD_WEIGHT, HEAD_BIAS]);
    const missing = report.missing.filter((n) => !head.has(n));
    if (report.shapeMismatch.length || missing.length) {
      const what = [
        ...report.shapeMismatch.map((m) => `${m.name} [${m.checkpoint}] vs [${m.model}]`),
        ...missing.map((n) => `${n} missing`),
      ];
      throw new UserError(
        `${where}: the backbone does not load (${what.slice(0, 4).join('; ')}${what.length > 4 ? `; … ${what.length} in all` : ''})`,
      );
    }
    return { store, loaded: report.loaded };
  } catch (e) {
    store.dispose();
    throw e;
  }
}

/** A classifier whose backbone comes from `backboneWeights` and whose head is new. */
export async function buildClassifier(
  o: BuildOptions,
): Promise<{ model: CropClassifier; provenance: BackboneProvenance }> {
  const trainableFrom = (t: BackboneConfig['trainableFrom']) => (o.freezeBackbone ? 'none' : t);
  if (o.backboneWeights === 'none') {
    const preset = DETR_PRESETS[o.arch];
    if (!preset) throw new UserError(`unknown --arch '${o.arch}'; choose ${Object.keys(DETR_PRESETS).join(', ')}`);
    const backbone: BackboneConfig = {
      ...preset.backbone,
      trainableFrom: trainableFrom('all'), // a random stem is never kept as is
      ...(o.batchNorm === 'train' ? { batchNorm: 'train' as const } : {}),
    };
    const model = CropClassifier.create({ backbone, numClasses: o.numClasses }, o.rng);
    return { model, provenance: { backboneWeights: 'none', backbone, loadedTensors: 0, skippedTensors: 0 } };
  }
  const files = await locateBackboneWeights(o.backboneWeights);
  const ckpt = readSafetensors(files.weights);
  const base = checkpointBackbone(files, ckpt);
  const cfg: ClassifierConfig = {
    backbone: {
      ...base,
      trainableFrom: trainableFrom(o.trainableFrom),
      ...(o.batchNorm === 'train' ? { batchNorm: 'train' as const } : {}),
    },
    numClasses: o.numClasses,
  };
  const { store, loaded } = loadBackbone(cfg, ckpt, o.rng, files.weights);
  return {
    model: new CropClassifier(cfg, store),
    provenance: {
      backboneWeights: o.backboneWeights,
      weightsFile: files.weights,
      configFile: files.config,
      backbone: cfg.backbone,
      loadedTensors: loaded,
      skippedTensors: ckpt.tensors.size - loaded,
    },
  };
}
