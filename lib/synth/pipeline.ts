/**
 * Stable Diffusion 1.5 + ControlNet text-to-image on onnxruntime-node, with diffusers'
 * `StableDiffusionControlNetPipeline.__call__` semantics (diffusers `pipeline_controlnet.py`;
 * SD 1.5's `scheduler/scheduler_config.json`; guess_mode off):
 *   prompt embeds [uncond; cond] (uncond = the negative prompt, "" by default) when guidance > 1
 *   latents = randn([1,4,H/8,W/8]) · init_noise_sigma
 *   each step t: x_in = scale_model_input(cat([x]·2), t)
 *     residuals = controlnet(x_in, t, embeds, cat([control]·2)) · conditioning_scale
 *     ε = unet(x_in, t, embeds, residuals);  ε = ε_u + s·(ε_c − ε_u);  x = scheduler.step(ε, t, x)
 *   image = clip(vae_decoder(x / 0.18215)/2 + 0.5, 0, 1)
 * Dims: B = 2 with guidance (1 without), D text width (768 for SD 1.5), h = H/8, w = W/8.
 */
import { Rng } from '../engine/rng.js';
import { UserError } from '../params/user_error.js';
import { ClipTokenizer } from './clip_tokenizer.js';
import { MODEL_SPECS, RESIDUAL_NAMES } from './io_spec.js';
import { ModelFiles } from './model_folder.js';
import { ExecutionProvider, HostTensor, OnnxModel } from './onnx_session.js';
import { makeScheduler, SchedulerName } from './schedulers/index.js';
import { concatBatch, denormalize, guide, repeatBatch, scaled } from './tensor_ops.js';

export const VAE_SCALING_FACTOR = 0.18215;

export interface GenerateOptions {
  prompt: string;
  negativePrompt: string;
  /** [1,3,H,W] in [0,1] (canny edges as RGB). */
  control: Float32Array;
  width: number;
  height: number;
  steps: number;
  guidance: number;
  scheduler: SchedulerName;
  conditioningScale: number;
  seed: number;
}

/** stepMs: wall time of each denoising step; stepSessionMs: the part of it inside ControlNet/UNet `session.run`. */
export interface GenerateResult {
  image: Float32Array;
  latents: Float32Array;
  stepMs: number[];
  stepSessionMs: number[];
}

export class ControlNetPipeline {
  private readonly embedCache = new Map<string, HostTensor>();
  private constructor(
    readonly files: ModelFiles,
    readonly tokenizer: ClipTokenizer,
    readonly textEncoder: OnnxModel,
    readonly controlnet: OnnxModel,
    readonly unet: OnnxModel,
    readonly vaeDecoder: OnnxModel,
  ) {}

  /** Opens the four sessions (each checked against its layout) and the tokenizer; `threads` = intra-op threads (0: one per core). */
  static async load(files: ModelFiles, providers?: ExecutionProvider[], threads = 0): Promise<ControlNetPipeline> {
    const open = (file: string, role: keyof typeof MODEL_SPECS) =>
      OnnxModel.open(file, { providers, spec: MODEL_SPECS[role], threads });
    const tokenizer = await ClipTokenizer.fromFolder(files.tokenizer);
    const models = [
      await open(files.textEncoder, 'text_encoder'),
      await open(files.controlnet, 'controlnet'),
      await open(files.unet, 'unet'),
      await open(files.vaeDecoder, 'vae_decoder'),
    ] as const;
    return new ControlNetPipeline(files, tokenizer, ...models);
  }

  get models(): OnnxModel[] {
    return [this.textEncoder, this.controlnet, this.unet, this.vaeDecoder];
  }
  get provider(): ExecutionProvider {
    return this.unet.provider;
  }

  /** last_hidden_state [1,77,D] of one text (cached: every image of a class shares its prompts). */
  async encodeText(text: string): Promise<HostTensor> {
    const hit = this.embedCache.get(text);
    if (hit) return hit;
    const ids = this.tokenizer.encode(text);
    const out = await this.textEncoder.run({ input_ids: { data: Int32Array.from(ids), dims: [1, ids.length] } });
    const emb = out.last_hidden_state;
    this.embedCache.set(text, emb);
    return emb;
  }

  /** Prompt embeddings as the UNet sees them: [uncond; cond] when guidance > 1 (diffusers' rule), else [cond]. */
  async promptEmbeds(prompt: string, negativePrompt: string, guidance: number): Promise<HostTensor> {
    const cond = await this.encodeText(prompt);
    return guidance > 1 ? concatBatch([await this.encodeText(negativePrompt), cond]) : cond;
  }

  /** The `timestep` feed in the shape ([] or [B]) the model declares; dtype conversion happens in the session. */
  private timestepFeed(model: OnnxModel, t: number, batch: number): HostTensor {
    const rank = model.input('timestep')!.shape.length;
    return rank === 0
      ? { data: Float64Array.of(t), dims: [] }
      : { data: new Float64Array(batch).fill(t), dims: [batch] };
  }

  /** ControlNet residuals for one step, already × conditioning scale (in the graph when it has the input). */
  async controlResiduals(
    xIn: HostTensor,
    t: number,
    embeds: HostTensor,
    control: HostTensor,
    scale: number,
  ): Promise<Record<string, HostTensor>> {
    const batch = xIn.dims[0];
    const scaleMeta = this.controlnet.input('conditioning_scale');
    const feeds: Record<string, HostTensor> = {
      sample: xIn,
      timestep: this.timestepFeed(this.controlnet, t, batch),
      encoder_hidden_states: embeds,
      controlnet_cond: control,
    };
    if (scaleMeta)
      feeds.conditioning_scale = { data: Float64Array.of(scale), dims: scaleMeta.shape.length === 0 ? [] : [1] };
    const out = await this.controlnet.run(feeds);
    const res: Record<string, HostTensor> = {};
    for (const name of RESIDUAL_NAMES) res[name] = scaleMeta ? out[name] : scaled(out[name], scale);
    return res;
  }

  /** The guided noise prediction ε [1,4,h,w] for latents x [1,4,h,w] (already scaled by scale_model_input); control [1|B,3,H,W]. */
  async predictNoise(
    x: Float32Array,
    latentDims: number[],
    t: number,
    embeds: HostTensor,
    control: HostTensor,
    o: { guidance: number; conditioningScale: number },
  ): Promise<Float32Array> {
    const batch = embeds.dims[0];
    const xIn = repeatBatch({ data: x, dims: latentDims }, batch); // [B,4,h,w]
    const controlIn = control.dims[0] === batch ? control : repeatBatch(control, batch); // [B,3,H,W]
    const residuals = await this.controlResiduals(xIn, t, embeds, controlIn, o.conditioningScale);
    const out = await this.unet.run({
      sample: xIn,
      timestep: this.timestepFeed(this.unet, t, batch),
      encoder_hidden_states: embeds,
      ...residuals,
    });
    return batch === 2 ? guide(out.out_sample, o.guidance) : (out.out_sample.data as Float32Array); // [1,4,h,w]
  }

  /** vae_decoder(latents / 0.18215) → [1,3,H,W] in [0,1]. */
  async decode(latents: Float32Array, latentDims: number[]): Promise<Float32Array> {
    const out = await this.vaeDecoder.run({
      latent_sample: { data: latents.map((v) => v / VAE_SCALING_FACTOR), dims: latentDims },
    });
    return denormalize(out.sample.data as Float32Array);
  }

  async generate(o: GenerateOptions): Promise<GenerateResult> {
    if (o.width % 8 !== 0 || o.height % 8 !== 0)
      throw new UserError(`image size must be a multiple of 8, got ${o.width}×${o.height}`);
    const latentDims = [1, 4, o.height / 8, o.width / 8];
    const scheduler = makeScheduler(o.scheduler, o.steps);
    const rng = new Rng(o.seed);
    let x = rng.normals(
      latentDims.reduce((a, b) => a * b, 1),
      scheduler.initNoiseSigma,
    ); // [1,4,h,w]
    const embeds = await this.promptEmbeds(o.prompt, o.negativePrompt, o.guidance); // [B,77,D]
    const control = repeatBatch({ data: o.control, dims: [1, 3, o.height, o.width] }, embeds.dims[0]); // [B,3,H,W], once per image
    const stepMs: number[] = [],
      stepSessionMs: number[] = [];
    const sessionMs = () => this.controlnet.runMs + this.unet.runMs;
    for (let i = 0; i < scheduler.timesteps.length; i++) {
      const [t0, s0] = [performance.now(), sessionMs()];
      const eps = await this.predictNoise(
        scheduler.scaleModelInput(x, i),
        latentDims,
        scheduler.timesteps[i],
        embeds,
        control,
        o,
      );
      x = scheduler.step(eps, i, x, rng);
      stepMs.push(performance.now() - t0);
      stepSessionMs.push(sessionMs() - s0);
    }
    return { image: await this.decode(x, latentDims), latents: x, stepMs, stepSessionMs };
  }

  async dispose(): Promise<void> {
    for (const m of this.models) await m.dispose();
  }
}
