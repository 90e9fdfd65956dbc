/**
 * Tiny Stable-Diffusion-shaped ONNX models made by the project (random weights, deterministic from a
 * seed): the same input/output names, element types and rank/shape pattern as the real exports
 * (diffusers `scripts/convert_stable_diffusion_checkpoint_to_onnx.py`, optimum's `model_configs.py`,
 * OnnxStack's ControlNet converter), with hidden widths divided down so that a 20-step run takes seconds
 * on a CPU.
 * Their images are abstract textures that follow the edge map — a wiring and speed test, not a model.
 *
 *   text_encoder  input_ids [B,77] int32|int64 → last_hidden_state [B,77,D], pooler_output [B,D]
 *   controlnet    sample [B,4,h,w], timestep, encoder_hidden_states [B,77,D], controlnet_cond [B,3,8h,8w]
 *                 (+ conditioning_scale) → down_block_{0..11}_additional_residual, mid_block_additional_residual
 *   unet          sample, timestep, encoder_hidden_states, the 13 residuals → out_sample [B,4,h,w]
 *   vae_decoder   latent_sample [B,4,h,w] → sample [B,3,8h,8w]
 */
import { Rng } from '../../engine/rng.js';
import { attr, Dim, GraphBuilder } from '../onnx/graph_builder.js';
import { RESIDUAL_NAMES } from '../io_spec.js';
import { alphasCumprod, SD15_NOISE_SCHEDULE } from '../schedulers/noise_schedule.js';

export interface TinyModelConfig {
  /** Text width D (SD 1.5: 768). */
  hidden: number;
  vocabSize: number;
  /** Channels of the 12 down residuals + mid (SD 1.5: 320×4, 640×3, 1280×5, mid 1280). */
  residualChannels: number[];
  /** Downsampling of each residual relative to the latent (SD 1.5: 1,1,1,2,2,2,4,4,4,8,8,8, mid 8). */
  residualFactors: number[];
  inputIdsType: 'int32' | 'int64';
  timestepType: 'float32' | 'int64';
  /** 1 = `timestep [B]` (diffusers script, OnnxStack), 0 = scalar `[]` (recent optimum). */
  timestepRank: 0 | 1;
  /** float16 inputs/outputs (and a Cast to float32 inside). */
  float16: boolean;
  /** ControlNet has the optional `conditioning_scale` (double [1]) input, as OnnxStack's export does. */
  conditioningScaleInput: boolean;
  seed: number;
}

export const SD15_RESIDUAL_FACTORS = [1, 1, 1, 2, 2, 2, 4, 4, 4, 8, 8, 8, 8];
export const DEFAULT_TINY: TinyModelConfig = {
  hidden: 32,
  vocabSize: 1024,
  residualChannels: [8, 8, 8, 8, 16, 16, 16, 32, 32, 32, 32, 32, 32],
  residualFactors: SD15_RESIDUAL_FACTORS,
  inputIdsType: 'int32',
  timestepType: 'float32',
  timestepRank: 1,
  float16: false,
  conditioningScaleInput: true,
  seed: 0,
};

/** Float input/output helpers: float16 models take/give half and compute in float32 inside. */
class TinyGraph extends GraphBuilder {
  constructor(
    name: string,
    private readonly cfg: TinyModelConfig,
    private readonly rng: Rng,
  ) {
    super(name);
  }
  floatIn(name: string, dims: Dim[]): string {
    const x = this.input(name, this.cfg.float16 ? 'float16' : 'float', dims);
    return this.cfg.float16 ? this.op('Cast', [x], { to: attr.int(1) }) : x;
  }
  floatOut(name: string, dims: Dim[], x: string): void {
    this.output(
      name,
      this.cfg.float16 ? 'float16' : 'float',
      dims,
      this.cfg.float16 ? this.op('Cast', [x], { to: attr.int(10) }) : x,
    );
  }
  /** He-style random weights [dims], std = gain/√fanIn. */
  weight(dims: number[], fanIn: number, gain = 1): string {
    return this.init(
      this.rng.normals(
        dims.reduce((a, b) => a * b, 1),
        gain / Math.sqrt(fanIn),
      ),
      dims,
    );
  }
  conv(x: string, cin: number, cout: number, k: number, gain = 1): string {
    return this.op('Conv', [x, this.weight([cout, cin, k, k], cin * k * k, gain), this.weight([cout], cin, 0.1)], {
      kernel_shape: attr.ints([k, k]),
      pads: attr.ints(Array(4).fill((k - 1) / 2)),
    });
  }
  /** timestep ([B] or scalar, float or int) → sin features [B|1, C, 1, 1]. */
  timeFeatures(t: string, channels: number): string {
    const tf = this.op('Reshape', [this.op('Cast', [t], { to: attr.int(1) }), this.i64([-1, 1, 1, 1])]);
    const freqs = this.f32(
      Array.from({ length: channels }, (_, c) => ((c + 1) / 1000) * Math.PI),
      [1, channels, 1, 1],
    );
    return this.op('Sin', [this.op('Mul', [tf, freqs])]);
  }
  /** encoder_hidden_states [B,77,D] → mean over tokens → [B,C,1,1]. */
  textFeatures(ehs: string, channels: number): string {
    const mean = this.op('ReduceMean', [ehs], { axes: attr.ints([1]), keepdims: attr.int(0) });
    return this.op('Reshape', [
      this.op('MatMul', [mean, this.weight([this.cfg.hidden, channels], this.cfg.hidden)]),
      this.i64([-1, channels, 1, 1]),
    ]);
  }
  timestepInput(): string {
    return this.input(
      'timestep',
      this.cfg.timestepType === 'int64' ? 'int64' : this.cfg.float16 ? 'float16' : 'float',
      this.cfg.timestepRank === 1 ? ['batch'] : [],
    );
  }
  pool(x: string, f: number): string {
    return f === 1 ? x : this.op('AveragePool', [x], { kernel_shape: attr.ints([f, f]), strides: attr.ints([f, f]) });
  }
  upsample(x: string, f: number, mode = 'nearest'): string {
    return f === 1 ? x : this.op('Resize', [x, '', this.f32([1, 1, f, f])], { mode: attr.str(mode) });
  }
}

const latentDims: Dim[] = ['batch', 4, 'height', 'width'];
const residualDims = (cfg: TinyModelConfig, i: number): Dim[] => [
  'batch',
  cfg.residualChannels[i],
  `h_${cfg.residualFactors[i]}`,
  `w_${cfg.residualFactors[i]}`,
];

export function tinyTextEncoder(cfg: TinyModelConfig = DEFAULT_TINY): Uint8Array {
  const g = new TinyGraph('text_encoder', cfg, new Rng(cfg.seed + 1));
  const ids = g.input('input_ids', cfg.inputIdsType, ['batch', 'sequence']);
  const tok = g.op('Gather', [g.weight([cfg.vocabSize, cfg.hidden], 1), ids], { axis: attr.int(0) }); // [B,77,D]
  const pos = g.weight([77, cfg.hidden], 1, 0.5); // [77,D]
  const h = g.op('Tanh', [g.op('MatMul', [g.op('Add', [tok, pos]), g.weight([cfg.hidden, cfg.hidden], cfg.hidden)])]);
  g.floatOut('last_hidden_state', ['batch', 'sequence', cfg.hidden], h);
  g.floatOut(
    'pooler_output',
    ['batch', cfg.hidden],
    g.op('ReduceMean', [h], { axes: attr.ints([1]), keepdims: attr.int(0) }),
  );
  return g.toBytes({ detrlab: 'tiny text_encoder (random weights)' });
}

export function tinyControlNet(cfg: TinyModelConfig = DEFAULT_TINY): Uint8Array {
  const g = new TinyGraph('controlnet', cfg, new Rng(cfg.seed + 2));
  const sample = g.floatIn('sample', latentDims);
  const t = g.timestepInput();
  const ehs = g.floatIn('encoder_hidden_states', ['batch', 'sequence', cfg.hidden]);
  const condIn = g.floatIn('controlnet_cond', ['batch', 3, 'image_height', 'image_width']);
  const cond = g.op('MaxPool', [condIn], { kernel_shape: attr.ints([8, 8]), strides: attr.ints([8, 8]) }); // [B,3,h,w]: edge present in the cell
  const base = 16;
  let h = g.conv(
    g.op('Concat', [g.op('Mul', [sample, g.f32([0.3])]), g.op('Mul', [cond, g.f32([4])])], { axis: attr.int(1) }),
    7,
    base,
    3,
  );
  h = g.op('Tanh', [g.op('Add', [g.op('Add', [h, g.timeFeatures(t, base)]), g.textFeatures(ehs, base)])]); // [B,16,h,w]
  const scale = cfg.conditioningScaleInput
    ? g.op('Cast', [g.input('conditioning_scale', 'double', [1])], { to: attr.int(1) })
    : undefined;
  RESIDUAL_NAMES.forEach((name, i) => {
    let r = g.conv(g.pool(h, cfg.residualFactors[i]), base, cfg.residualChannels[i], 1, 0.5);
    if (scale) r = g.op('Mul', [r, scale]);
    g.floatOut(name, residualDims(cfg, i), r);
  });
  return g.toBytes({ detrlab: 'tiny controlnet (random weights)' });
}

/**
 * The tiny UNet is an analytic denoiser: it forms a target latent x̂₀ from the ControlNet residuals, the
 * text and the sample, and returns the ε that points at it, ε = (x_t − √ᾱ_t·x̂₀)/√(1 − ᾱ_t) with ᾱ looked up
 * at the timestep (SD 1.5's schedule). Every sampler then converges to an image that follows the edge
 * map and the prompt, so the demo's pictures show the conditioning working (still not SD output).
 */
export function tinyUnet(cfg: TinyModelConfig = DEFAULT_TINY): Uint8Array {
  const g = new TinyGraph('unet', cfg, new Rng(cfg.seed + 3));
  const sample = g.floatIn('sample', latentDims); // [B,4,h,w]
  const t = g.timestepInput();
  const ehs = g.floatIn('encoder_hidden_states', ['batch', 'sequence', cfg.hidden]);
  let h = g.op('Add', [g.conv(sample, 4, 4, 3, 0.3), g.op('Mul', [g.textFeatures(ehs, 4), g.f32([0.3])])]);
  RESIDUAL_NAMES.forEach((name, i) => {
    const r = g.floatIn(name, residualDims(cfg, i));
    h = g.op('Add', [h, g.upsample(g.conv(r, cfg.residualChannels[i], 4, 1, 0.6), cfg.residualFactors[i])]);
  });
  const x0 = g.op('Mul', [g.op('Tanh', [h]), g.f32([1.5])]); // x̂₀ [B,4,h,w]
  const tIdx = g.op('Cast', [g.op('Reshape', [t, g.i64([-1, 1, 1, 1])])], { to: attr.int(7) }); // [B|1,1,1,1] int64
  const abar = g.op('Gather', [g.init(Float32Array.from(alphasCumprod(SD15_NOISE_SCHEDULE)), [1000]), tIdx], {
    axis: attr.int(0),
  });
  const num = g.op('Sub', [sample, g.op('Mul', [g.op('Sqrt', [abar]), x0])]);
  g.floatOut('out_sample', latentDims, g.op('Div', [num, g.op('Sqrt', [g.op('Sub', [g.f32([1]), abar])])]));
  return g.toBytes({ detrlab: 'tiny analytic-denoiser unet with ControlNet residual inputs (random weights)' });
}

export function tinyVaeDecoder(cfg: TinyModelConfig = DEFAULT_TINY): Uint8Array {
  const g = new TinyGraph('vae_decoder', cfg, new Rng(cfg.seed + 4));
  const z = g.op('Mul', [g.floatIn('latent_sample', latentDims), g.f32([0.18215])]); // undo the 1/0.18215
  const up = g.upsample(z, 8, 'linear'); // [B,4,8h,8w]
  // a fixed colour mix (each latent channel tints differently) rather than random weights: readable pictures
  const mix = g.f32([0.9, -0.5, 0.4, 0.3, 0.2, 0.8, -0.5, 0.4, -0.4, 0.3, 0.8, -0.3], [3, 4, 1, 1]);
  g.floatOut(
    'sample',
    ['batch', 3, 'image_height', 'image_width'],
    g.op('Tanh', [g.op('Conv', [up, mix, g.f32([0.1, 0, -0.1])])]),
  );
  return g.toBytes({ detrlab: 'tiny vae_decoder (random weights)' });
}
