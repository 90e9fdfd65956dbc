/** `detrlab train-diffusion` parameters. Defaults: the demo recipe (scripts/make_demo_diffusion.sh). */
import { bool, int, num, numList, resolveParams, Schema, str } from '../params/schema.js';

export interface TrainDiffusionParams {
  crops: string;
  out: string;
  size: number;
  batch: number;
  vaeSteps: number;
  vaeChannels: number[];
  vaeBlocks: number;
  steps: number;
  decoderSteps: number;
  decoderLr: number;
  decoderChannels: number[];
  decoderBlocks: number;
  gdlWeight: number;
  tuneSteps: number;
  tuneLr: number;
  vaeLr: number;
  lr: number;
  promptDrop: number;
  latentPenalty: number;
  cannyLow: number;
  cannyHigh: number;
  seed: number;
  checkpointEvery: number;
  maxSteps: number;
  exportDir: string;
  exportUnfinished: boolean;
  float16: boolean;
  backend: string;
  quiet: boolean;
}

export const TRAIN_DIFFUSION_SCHEMA: Schema<TrainDiffusionParams> = {
  crops: str(
    'data/demo_all_crops',
    'crops folder (`detrlab crops`): every train crop of every class in its manifest is used',
  ),
  out: str('data/diffusion', 'training folder (checkpoints/last is resumed when present)'),
  size: int(64, 'image side in pixels, a multiple of 64 (latents are size/8)', { min: 64, max: 256 }),
  batch: int(32, 'batch size', { min: 1 }),
  vaeSteps: int(1500, 'autoencoder steps (phase 1)', { min: 1 }),
  vaeChannels: numList(
    [16, 24, 48, 48],
    "autoencoder encoder's channels at S, S/2, S/4, S/8 (its decoder mirrors them)",
  ),
  vaeBlocks: int(0, 'autoencoder: residual blocks at S/2, S/4 and S/8 in the encoder and in its own decoder', {
    min: 0,
    max: 4,
  }),
  steps: int(8000, 'diffusion steps: text encoder + UNet + ControlNet (phase 2)', { min: 1 }),
  decoderSteps: int(
    0,
    'decoder steps (phase 3, 0 = none): a new decoder trained on the frozen encoder latents (UNet unchanged)',
    { min: 0 },
  ),
  decoderLr: num(1e-3, 'decoder peak learning rate (phase 3; same warm-up and cosine)', { min: 0 }),
  decoderChannels: numList([32, 48, 64, 64], "phase 3 decoder's channels at S, S/2, S/4, S/8"),
  decoderBlocks: int(1, "phase 3 decoder's residual blocks per resolution", { min: 0, max: 4 }),
  gdlWeight: num(1, 'phase 3: weight of the gradient difference loss (Mathieu et al. 2016; sharper edges)', {
    min: 0,
  }),
  tuneSteps: int(
    0,
    'more steps of text encoder + UNet + ControlNet after phases 2–3 (phase 4, 0 = none), with their own warm-up and cosine',
    { min: 0 },
  ),
  tuneLr: num(5e-4, 'phase 4 peak learning rate', { min: 0 }),
  vaeLr: num(2e-3, 'autoencoder peak learning rate (AdamW, 100 warm-up steps, cosine to 10 %)', { min: 0 }),
  lr: num(1e-3, 'diffusion peak learning rate', { min: 0 }),
  promptDrop: num(0.1, 'probability of training on the unconditional prompt ("" or the negative prompt) for CFG', {
    min: 0,
    max: 1,
  }),
  latentPenalty: num(1e-4, 'weight of the mean squared latent (keeps the autoencoder latent bounded)', { min: 0 }),
  cannyLow: num(50, 'Canny low threshold of the control maps (as `detrlab synth`)', { min: 0 }),
  cannyHigh: num(100, 'Canny high threshold of the control maps (as `detrlab synth`)', { min: 0 }),
  seed: int(0, 'seed of the initial weights and of every batch'),
  checkpointEvery: int(200, 'steps between checkpoints', { min: 1 }),
  maxSteps: int(0, 'stop this process after this many steps (0 = run to the end); run again to continue', { min: 0 }),
  exportDir: str('', 'write the ONNX model folder here when training is complete (empty = <out>/model)'),
  exportUnfinished: bool(
    false,
    'also export when training is not complete (the last checkpoint; for trying an interim model)',
  ),
  float16: bool(true, 'store the exported ONNX weights as float16 (computed in float32)'),
  backend: str('auto', 'tfjs backend: auto, wasm, cpu, …'),
  quiet: bool(false, 'no progress bars'),
};

export const resolveTrainDiffusionParams = (p: Partial<TrainDiffusionParams> = {}): TrainDiffusionParams =>
  resolveParams(TRAIN_DIFFUSION_SCHEMA, p);
