/** `detrlab synth` / notebook 08 parameters. Defaults are the demo profile (models/tiny-sd-demo at its own 64 px). */
import { bool, int, num, oneOf, resolveParams, Schema, str, strList } from '../params/schema.js';
import { DEFAULT_NEGATIVE_PROMPT, DEFAULT_PROMPT_TEMPLATE } from './prompts.js';
import { SchedulerName, SCHEDULER_NAMES } from './schedulers/scheduler.js';
import type { StageOverrides } from '../params/overrides.js';

/** The demo's diffusion model folder (`detrlab train-diffusion`, models/tiny-sd-demo/README.md). */
export const DEMO_DIFFUSION_MODEL = 'models/tiny-sd-demo';

export interface SynthParams {
  crops: string;
  modelDir: string;
  classes: string[];
  perClass: number;
  steps: number;
  guidance: number;
  size: number;
  seed: number;
  scheduler: SchedulerName;
  conditioningScale: number;
  promptTemplate: string;
  negativePrompt: string;
  cannyLow: number;
  cannyHigh: number;
  blurSigma: number;
  out: string;
  shard: string;
  examples: string;
  gridPerClass: number;
  cpu: boolean;
  threads: number;
}

export const SYNTH_SCHEMA: Schema<SynthParams> = {
  crops: str('data/crops', 'crops folder written by `detrlab crops` (manifest.jsonl, classes.json)'),
  modelDir: str(
    DEMO_DIFFUSION_MODEL,
    `SD 1.5 + ControlNet ONNX model folder (see lib/synth/MODELS.md); the default is the demo's tiny-sd, trained by detrlab on the demo crops (not SD 1.5); empty = random-weight test models in data/models/tiny-sd (noise; for tests)`,
  ),
  classes: strList([], 'classes to synthesise (default: the rare classes of classes.json)'),
  perClass: int(4, 'images per class', { min: 1 }),
  steps: int(20, 'denoising steps', { min: 1, max: 1000 }),
  guidance: num(7.5, 'classifier-free guidance scale (≤ 1 turns CFG off)', { min: 0 }),
  size: int(0, "image side in pixels, a multiple of 64; 0 = the model's own (tiny-sd-demo: 64, SD 1.5: 512)", {
    min: 0,
    max: 2048,
  }),
  seed: int(0, 'base seed; each image uses a seed derived from (seed, class, index)'),
  scheduler: oneOf<SchedulerName>(SCHEDULER_NAMES, 'ddim', 'sampler'),
  conditioningScale: num(1, 'ControlNet conditioning scale (0 = no control)', { min: 0 }),
  promptTemplate: str(DEFAULT_PROMPT_TEMPLATE, 'prompt with {class}'),
  negativePrompt: str(DEFAULT_NEGATIVE_PROMPT, 'negative prompt (the unconditional half of CFG)'),
  cannyLow: num(
    50,
    'Canny low threshold, cv2.Canny threshold1 (diffusers docs: 100; small upscaled crops have soft edges)',
    { min: 0 },
  ),
  cannyHigh: num(100, 'Canny high threshold, cv2.Canny threshold2 (diffusers docs: 200)', { min: 0 }),
  blurSigma: num(0, 'Gaussian blur σ before Canny (0 = none, as cv2.Canny alone)', { min: 0 }),
  out: str('data/synth', 'output folder'),
  shard: str('0/1', 'i/n: make only the images j with j mod n = i (several processes or machines split the work)'),
  examples: str('examples_synth', 'folder for the README grid (grid.png + README.md); empty = none'),
  gridPerClass: int(4, 'images per class in the grid', { min: 1 }),
  cpu: bool(false, 'use the CPU execution provider even when CUDA is available'),
  threads: int(0, 'onnxruntime intra-op threads per model (0 = one per core for real models, 1 for the tiny ones)', {
    min: 0,
  }),
};

export const resolveSynthParams = (p: StageOverrides<SynthParams> = {}): SynthParams => resolveParams(SYNTH_SCHEMA, p); // every value checked by its schema

/** The Canny settings of the control images. */
export const cannyOf = (p: SynthParams) => ({ low: p.cannyLow, high: p.cannyHigh, blurSigma: p.blurSigma });

/** The parameters that change pixels: a folder holds images of one such setting only. */
export const generationKey = (p: SynthParams, models: string, modelsFingerprint: string) => ({
  models,
  modelsFingerprint,
  steps: p.steps,
  guidance: p.guidance,
  size: p.size,
  seed: p.seed,
  scheduler: p.scheduler,
  conditioningScale: p.conditioningScale,
  promptTemplate: p.promptTemplate,
  negativePrompt: p.negativePrompt,
  canny: cannyOf(p),
});
