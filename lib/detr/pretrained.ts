/**
 * One entry point to a ready model: build the architecture and load weights from the hub or a file.
 *
 *   const { model, report } = await loadDetr({ modelName: 'facebook/detr-resnet-50', numClasses: 10,
 *                                              categoryIds, headInit: 'coco-rows', rng });
 * Architecture: `cfg` if given (then `numClasses` etc. come from it), else the checkpoint's config.json,
 * else inferred from its tensor shapes. `numClasses` overrides K (the class head is then re-initialised
 * or built from COCO rows, see weights.ts).
 */
import { DetrConfig, validateDetr } from './config.js';
import { DetrModel } from './model.js';
import { ParamStore } from './param_store.js';
import { detrSpecs } from './hf_names.js';
import { fromHfConfig, configFromShapes, LabelInfo } from './hf_config.js';
import { loadCheckpoint, LoadReport, HeadInit } from './weights.js';
import { fetchHubWeights, localWeights, HubOptions, HubFiles } from './hub.js';
import { readSafetensors } from '../io/safetensors.js';
import { Rng } from '../engine/rng.js';
import { UserError } from '../params/user_error.js';
import { readJsonFile } from '../io/json_file.js';

/**
 * The project's demo DETR, relative to the project root (pre-trained by `detrlab train` on the full demo dataset;
 * models/detr-demo/README.md). Detection training starts from it; the crop classifier takes its backbone.
 */
export const DEMO_DETR_WEIGHTS = 'models/detr-demo/model.safetensors';

export interface LoadDetrOptions extends HubOptions {
  /** Hub repo id, e.g. facebook/detr-resnet-50 (ignored when `weights` is given). */
  modelName?: string;
  /** Local safetensors file. */
  weights?: string;
  cfg?: DetrConfig;
  numClasses?: number;
  categoryIds?: readonly number[];
  headInit?: HeadInit;
  strict?: boolean;
  /** Attention heads when neither cfg nor config.json says (shapes cannot tell; default 8). */
  nHeads?: number;
  rng: Rng;
}

export interface LoadedDetr {
  model: DetrModel;
  report: LoadReport;
  files: HubFiles;
  labels?: LabelInfo;
}

export async function loadDetr(o: LoadDetrOptions): Promise<LoadedDetr> {
  if (!o.weights && !o.modelName) throw new UserError('give --weights <file.safetensors> or --model-name <hub repo>');
  const files = o.weights ? localWeights(o.weights) : await fetchHubWeights(o.modelName!, o);
  const ckpt = readSafetensors(files.weights);
  let cfg = o.cfg;
  let labels: LabelInfo | undefined;
  if (!cfg && files.config)
    ({ cfg, labels } = fromHfConfig(
      readJsonFile(files.config, { what: 'the model config beside the weights' }),
      files.config,
    ));
  if (!cfg) {
    // Shapes fix every size but the attention head count; say when it is a guess (a wrong one loads but predicts badly).
    if (o.nHeads === undefined)
      console.warn(
        `warning: no config.json beside ${files.weights}; assuming 8 attention heads (DETR's default), which the tensor shapes cannot confirm`,
      );
    cfg = configFromShapes(new Map([...ckpt.tensors].map(([n, t]) => [n, t.shape])), o.nHeads ?? 8, files.weights);
  }
  if (o.numClasses !== undefined && o.numClasses !== cfg.numClasses) {
    cfg = validateDetr({ ...cfg, numClasses: o.numClasses });
    labels = undefined;
  }
  const store = new ParamStore(detrSpecs(cfg));
  try {
    const report = loadCheckpoint(store, ckpt, {
      source: files.weights,
      rng: o.rng,
      headInit: o.headInit,
      categoryIds: o.categoryIds,
      initStd: cfg.initStd,
      strict: o.strict,
    });
    return { model: new DetrModel(cfg, store), report, files, labels };
  } catch (e) {
    store.dispose();
    throw e;
  }
}
