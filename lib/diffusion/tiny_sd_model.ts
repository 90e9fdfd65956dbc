/**
 * tiny-sd: a small latent-diffusion model with the four parts and roles of SD 1.5 + ControlNet-canny,
 * written once against `Ops` (ops.ts) so the same code trains in tfjs and exports to ONNX.
 *
 *   vae       encoder: image [B,3,S,S] in [−1,1] → latent [B,4,S/8,S/8] (three 2× poolings: 8× down-sampling);
 *             decoder: latent → image (three 2× nearest up-samplings). Deterministic autoencoder (SD's is a KL-VAE; here a small L2 penalty on
 *             the latent stands in for the KL term). `decoder` (optional) is a wider decoder with residual blocks
 *             at every resolution, 64 px included, trained on the frozen encoder's latents after the diffusion
 *             phase (train_diffusion.ts), as SD's ft-MSE decoder was fine-tuned with its encoder frozen. Diffusion latents = latent · scalingFactor (SD config
 *             `scaling_factor`; here 1/std of the training latents, measured after the autoencoder is trained).
 *   text      token embedding + positions + one residual MLP over the CLIP BPE ids [B,77] → [B,77,D].
 *   unet      ε-prediction UNet in SD's block pattern (diffusers UNet2DConditionModel): conv_in, four down
 *             blocks (2 resnets each, a down-sampler after the first three → 12 skip states), a mid block
 *             (resnet, cross-attention, resnet), four up blocks (3 resnets each, consuming the skips), conv_out;
 *             timestep embedding (sinusoidal → MLP) added in every resnet; cross-attention on the text states
 *             in down blocks 1–2, the mid block and up blocks 1–2. The 13 ControlNet residuals are added to
 *             the 12 skip states and the mid output (diffusers `down_block_additional_residuals`).
 *   controlnet a copy of the UNet's encoder (conv_in, down blocks, mid) plus a hint encoder on the canny map
 *             (controlnet_cond_embedding) and a zero-initialised 1×1 conv on each of the 13 outputs
 *             (diffusers ControlNetModel; Zhang et al. 2023, "zero convolution").
 *
 * Dims: B batch, S image side, h = S/8 latent side, C_i channels of level i, D text width, N = 77 tokens.
 */
import { Rng } from '../engine/rng.js';
import type { Ops } from './ops.js';

export interface TinySdConfig {
  imageSize: number;
  latentChannels: number;
  /** Autoencoder encoder channels at S, S/2, S/4, S/8 (the decoder mirrors them). */
  vaeChannels: [number, number, number, number];
  /**
   * Residual blocks at the encoder's S/2, S/4 and S/8 resolutions, and at the autoencoder's own decoder's (absent:
   * 0, as in models made before this setting existed). None at full resolution, where a block costs the most.
   */
  vaeBlocks?: number;
  /** UNet channels per level (latent side h, h/2, h/4, h/8). */
  unetChannels: [number, number, number, number];
  textDim: number;
  vocabSize: number;
  timeHalf: number;
  timeDim: number;
  /** Hint encoder channels at S, S/2, S/4. */
  hintChannels: [number, number, number];
  /**
   * The decoder that replaced the autoencoder's own (absent: the mirror of `vaeChannels`, no residual blocks):
   * channels at S, S/2, S/4, S/8 and `blocks` residual blocks at each of the four resolutions.
   */
  decoder?: DecoderConfig;
}

export interface DecoderConfig {
  channels: [number, number, number, number];
  blocks: number;
}

export const DEFAULT_TINY_SD: Omit<TinySdConfig, 'vocabSize'> = {
  imageSize: 64,
  latentChannels: 4,
  vaeChannels: [16, 24, 48, 48],
  unetChannels: [32, 32, 48, 48],
  textDim: 32,
  timeHalf: 16,
  timeDim: 64,
  hintChannels: [8, 16, 32],
};

export const TEXT_LENGTH = 77;
/** Blocks with cross-attention (SD 1.5: CrossAttnDownBlock ×3, mid, CrossAttnUpBlock ×3; here the middle ones). */
const ATTN_DOWN = [false, true, true, false];
const ATTN_UP = [false, true, true, false];

export type InitKind = 'he' | 'zero' | 'small' | 'normal';
export interface ParamSpec {
  name: string;
  shape: number[];
  init: InitKind;
}

/** Every parameter of the four parts (ControlNet included), in a fixed order. */
export function paramSpecs(cfg: TinySdConfig): ParamSpec[] {
  const out: ParamSpec[] = [];
  const conv = (name: string, cin: number, cout: number, k = 3, init: InitKind = 'he') => {
    out.push(
      { name: `${name}.weight`, shape: [k, k, cin, cout], init },
      { name: `${name}.bias`, shape: [cout], init: 'zero' },
    );
  };
  const lin = (name: string, cin: number, cout: number, init: InitKind = 'he', bias = true) => {
    out.push({ name: `${name}.weight`, shape: [cin, cout], init });
    if (bias) out.push({ name: `${name}.bias`, shape: [cout], init: 'zero' });
  };
  const [v0, v1, v2, v3] = cfg.vaeChannels;
  const encBlocks = (level: number, c: number) => {
    for (let k = 0; k < (level > 0 ? (cfg.vaeBlocks ?? 0) : 0); k++) {
      conv(`vae.enc.block${level}.${k}.conv1`, c, c);
      conv(`vae.enc.block${level}.${k}.conv2`, c, c, 3, 'small');
    }
  };
  conv('vae.enc.conv0', 3, v0);
  encBlocks(0, v0);
  conv('vae.enc.conv1', v0, v1);
  encBlocks(1, v1);
  conv('vae.enc.conv2', v1, v2);
  encBlocks(2, v2);
  conv('vae.enc.conv3', v2, v3);
  encBlocks(3, v3);
  conv('vae.enc.out', v3, cfg.latentChannels, 3, 'small');
  out.push(...decoderSpecs(cfg));

  out.push(
    { name: 'text.token_embedding', shape: [cfg.vocabSize, cfg.textDim], init: 'normal' },
    { name: 'text.position_embedding', shape: [TEXT_LENGTH, cfg.textDim], init: 'normal' },
  );
  lin('text.fc1', cfg.textDim, 2 * cfg.textDim);
  lin('text.fc2', 2 * cfg.textDim, cfg.textDim, 'small');

  const resnet = (p: string, cin: number, cout: number) => {
    conv(`${p}.conv1`, cin, cout);
    lin(`${p}.time_emb_proj`, cfg.timeDim, cout);
    conv(`${p}.conv2`, cout, cout, 3, 'small');
    if (cin !== cout) conv(`${p}.conv_shortcut`, cin, cout, 1);
  };
  const attn = (p: string, c: number) => {
    lin(`${p}.to_q`, c, c, 'he', false);
    lin(`${p}.to_k`, cfg.textDim, c, 'he', false);
    lin(`${p}.to_v`, cfg.textDim, c, 'he', false);
    lin(`${p}.to_out`, c, c, 'small');
  };
  const encoder = (p: string) => {
    lin(`${p}.time_embedding.linear_1`, 2 * cfg.timeHalf, cfg.timeDim);
    lin(`${p}.time_embedding.linear_2`, cfg.timeDim, cfg.timeDim);
    const ch = cfg.unetChannels;
    conv(`${p}.conv_in`, cfg.latentChannels, ch[0]);
    for (let b = 0; b < 4; b++) {
      for (let r = 0; r < 2; r++) {
        resnet(`${p}.down.${b}.res.${r}`, r === 0 ? ch[Math.max(0, b - 1)] : ch[b], ch[b]);
        if (ATTN_DOWN[b]) attn(`${p}.down.${b}.attn.${r}`, ch[b]);
      }
      if (b < 3) conv(`${p}.down.${b}.downsample`, ch[b], ch[b]);
    }
    resnet(`${p}.mid.res.0`, ch[3], ch[3]);
    attn(`${p}.mid.attn`, ch[3]);
    resnet(`${p}.mid.res.1`, ch[3], ch[3]);
  };
  encoder('unet');
  const ch = cfg.unetChannels;
  const skips = skipChannels(cfg);
  for (let u = 0; u < 4; u++) {
    const level = 3 - u;
    for (let r = 0; r < 3; r++) {
      const cin = (r === 0 ? ch[Math.min(3, level + 1)] : ch[level]) + skips[11 - (u * 3 + r)];
      resnet(`unet.up.${u}.res.${r}`, cin, ch[level]);
      if (ATTN_UP[u]) attn(`unet.up.${u}.attn.${r}`, ch[level]);
    }
    if (u < 3) conv(`unet.up.${u}.upsample`, ch[level], ch[level]);
  }
  conv('unet.conv_out', ch[0], cfg.latentChannels, 3, 'small');

  encoder('controlnet');
  const [h0, h1, h2] = cfg.hintChannels;
  conv('controlnet.cond_embedding.conv0', 3, h0);
  conv('controlnet.cond_embedding.conv1', h0, h1);
  conv('controlnet.cond_embedding.conv2', h1, h2);
  conv('controlnet.cond_embedding.conv_out', h2, ch[0], 3, 'zero');
  [...skips, ch[3]].forEach((c, i) => conv(`controlnet.zero_conv.${i}`, c, c, 1, 'zero'));
  return out;
}

/**
 * The decoder's parameters (`vae.dec.*`). Without `cfg.decoder`: in, conv3, conv2, conv1, out mirroring the
 * encoder, with `vaeBlocks` residual blocks per level as the encoder has. With it, `cfg.decoder`'s channels and
 * blocks. Blocks are `vae.dec.block{l}.{k}.conv{1,2}` at level l (0 = S … 3 = S/8).
 */
export function decoderSpecs(cfg: TinySdConfig): ParamSpec[] {
  const out: ParamSpec[] = [];
  const conv = (name: string, cin: number, cout: number, init: InitKind = 'he') =>
    out.push(
      { name: `${name}.weight`, shape: [3, 3, cin, cout], init },
      { name: `${name}.bias`, shape: [cout], init: 'zero' },
    );
  const [v0, v1, v2, v3] = cfg.decoder?.channels ?? cfg.vaeChannels;
  const blocks = (level: number, c: number) => {
    for (let k = 0; k < decoderBlocks(cfg, level); k++) {
      conv(`vae.dec.block${level}.${k}.conv1`, c, c);
      conv(`vae.dec.block${level}.${k}.conv2`, c, c, 'small');
    }
  };
  conv('vae.dec.in', cfg.latentChannels, v3);
  blocks(3, v3);
  conv('vae.dec.conv3', v3, v2);
  conv('vae.dec.conv2', v2, v1);
  blocks(2, v1);
  conv('vae.dec.conv1', v1, v0);
  blocks(1, v0);
  blocks(0, v0);
  conv('vae.dec.out', v0, 3, 'small');
  return out;
}

/** Channels of the 12 skip states (= the 12 down residuals); the mid residual has unetChannels[3]. */
export function skipChannels(cfg: TinySdConfig): number[] {
  const ch = cfg.unetChannels;
  return [ch[0], ch[0], ch[0], ch[0], ch[1], ch[1], ch[1], ch[2], ch[2], ch[2], ch[3], ch[3]];
}

/** Initial values: He normal (std √(2/fan_in)), 'small' = He × 0.1, 'normal' = N(0, 0.02²) (CLIP embeddings), zeros. */
export function initValues(specs: ParamSpec[], rng: Rng): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const fanIn = s.shape.length === 4 ? s.shape[0] * s.shape[1] * s.shape[2] : s.shape[0];
    if (s.init === 'zero') out.set(s.name, new Float32Array(n));
    else if (s.init === 'normal') out.set(s.name, rng.normals(n, 0.02));
    else out.set(s.name, rng.normals(n, Math.sqrt(2 / fanIn) * (s.init === 'small' ? 0.1 : 1)));
  }
  // ControlNet starts as a copy of the UNet's encoder (Zhang et al.: "trainable copy")
  for (const [k, v] of out)
    if (k.startsWith('controlnet.') && out.has(`unet.${k.slice('controlnet.'.length)}`))
      v.set(out.get(`unet.${k.slice('controlnet.'.length)}`)!);
  return out;
}

/**
 * Residual blocks at `level` (0 = S … 3 = S/8) of the decoder in use: phase 3's at every level, else the
 * autoencoder's own (`vaeBlocks`, none at full resolution).
 */
const decoderBlocks = (cfg: TinySdConfig, level: number): number =>
  cfg.decoder ? cfg.decoder.blocks : level > 0 ? (cfg.vaeBlocks ?? 0) : 0;

/** h + conv2(silu(conv1(silu(h)))) for each of `n` blocks named `${prefix}${level}.${k}`. */
function residualBlocks<T>(o: Ops<T>, h: T, prefix: string, level: number, n: number): T {
  for (let k = 0; k < n; k++) {
    const p = `${prefix}${level}.${k}`;
    h = o.add(h, o.conv(o.silu(o.conv(o.silu(h), `${p}.conv1`)), `${p}.conv2`));
  }
  return h;
}

export class TinySd<T> {
  constructor(
    readonly cfg: TinySdConfig,
    readonly o: Ops<T>,
  ) {}

  vaeEncode(x: T): T {
    const o = this.o;
    const n = this.cfg.vaeBlocks ?? 0;
    const blocks = (h: T, level: number): T => residualBlocks(o, h, 'vae.enc.block', level, level > 0 ? n : 0);
    let h = blocks(o.silu(o.conv(x, 'vae.enc.conv0')), 0);
    h = blocks(o.silu(o.conv(o.pool2(h), 'vae.enc.conv1')), 1);
    h = blocks(o.silu(o.conv(o.pool2(h), 'vae.enc.conv2')), 2);
    h = blocks(o.silu(o.conv(o.pool2(h), 'vae.enc.conv3')), 3);
    return o.conv(h, 'vae.enc.out');
  }

  vaeDecode(z: T): T {
    const o = this.o;
    const blocks = (h: T, level: number): T =>
      residualBlocks(o, h, 'vae.dec.block', level, decoderBlocks(this.cfg, level));
    let h = o.silu(o.conv(z, 'vae.dec.in'));
    h = blocks(h, 3);
    h = o.silu(o.conv(h, 'vae.dec.conv3')); // channels shrink before each up-sampling: the
    h = o.silu(o.conv(o.up2(h), 'vae.dec.conv2')); // full-resolution convs are the costly ones
    h = blocks(h, 2);
    h = o.silu(o.conv(o.up2(h), 'vae.dec.conv1'));
    h = blocks(h, 1);
    h = blocks(o.up2(h), 0);
    return o.conv(h, 'vae.dec.out');
  }

  /** ids [B,77] → states [B,77,D]. */
  text(ids: T): T {
    const o = this.o;
    const x = o.add(o.embed(ids, 'text.token_embedding'), o.param('text.position_embedding'));
    return o.add(x, o.linear(o.silu(o.linear(x, 'text.fc1')), 'text.fc2'));
  }

  private timeEmbedding(p: string, t: T): T {
    const o = this.o;
    return o.linear(
      o.silu(o.linear(o.timeFeatures(t, this.cfg.timeHalf), `${p}.time_embedding.linear_1`)),
      `${p}.time_embedding.linear_2`,
    );
  }

  private resnet(p: string, x: T, temb: T): T {
    const o = this.o;
    let h = o.conv(o.silu(x), `${p}.conv1`);
    h = o.addChannels(h, o.linear(o.silu(temb), `${p}.time_emb_proj`));
    h = o.conv(o.silu(h), `${p}.conv2`);
    const skip = this.hasParam(`${p}.conv_shortcut.weight`) ? o.conv(x, `${p}.conv_shortcut`) : x;
    return o.add(skip, h);
  }

  private attn(p: string, x: T, ctx: T): T {
    const o = this.o;
    const tok = o.toTokens(x);
    const c = this.channelsOf(`${p}.to_q.weight`);
    const a = o.attention(
      o.linear(tok, `${p}.to_q`, false),
      o.linear(ctx, `${p}.to_k`, false),
      o.linear(ctx, `${p}.to_v`, false),
      1 / Math.sqrt(c),
    );
    return o.add(x, o.fromTokens(o.linear(a, `${p}.to_out`), x));
  }

  /** The encoder shared by the UNet and the ControlNet: 12 skip states + the mid output. */
  private encode(p: string, x: T, temb: T, ctx: T, hint?: T): { skips: T[]; mid: T } {
    const o = this.o;
    let h = o.conv(x, `${p}.conv_in`);
    if (hint !== undefined) h = o.add(h, hint);
    const skips = [h];
    for (let b = 0; b < 4; b++) {
      for (let r = 0; r < 2; r++) {
        h = this.resnet(`${p}.down.${b}.res.${r}`, h, temb);
        if (ATTN_DOWN[b]) h = this.attn(`${p}.down.${b}.attn.${r}`, h, ctx);
        skips.push(h);
      }
      if (b < 3) {
        h = o.conv(o.pool2(h), `${p}.down.${b}.downsample`);
        skips.push(h);
      }
    }
    h = this.resnet(`${p}.mid.res.0`, h, temb);
    h = this.attn(`${p}.mid.attn`, h, ctx);
    h = this.resnet(`${p}.mid.res.1`, h, temb);
    return { skips, mid: h };
  }

  /** ε for latents x [B,4,h,w] at timesteps t [B], text states ctx [B,77,D], plus the 13 ControlNet residuals (or none). */
  unet(x: T, t: T, ctx: T, residuals?: T[]): T {
    const o = this.o;
    const temb = this.timeEmbedding('unet', t);
    const enc = this.encode('unet', x, temb, ctx);
    const skips = residuals ? enc.skips.map((s, i) => o.add(s, residuals[i])) : enc.skips;
    let h = residuals ? o.add(enc.mid, residuals[12]) : enc.mid;
    for (let u = 0; u < 4; u++) {
      for (let r = 0; r < 3; r++) {
        h = this.resnet(`unet.up.${u}.res.${r}`, o.catChannels(h, skips.pop()!), temb);
        if (ATTN_UP[u]) h = this.attn(`unet.up.${u}.attn.${r}`, h, ctx);
      }
      if (u < 3) h = o.conv(o.up2(h), `unet.up.${u}.upsample`);
    }
    return o.conv(o.silu(h), 'unet.conv_out');
  }

  /** The 13 residuals (12 down + mid) for latents x, timesteps t, text ctx and the canny map cond [B,3,S,S] in [0,1]. */
  controlnet(x: T, t: T, ctx: T, cond: T): T[] {
    const o = this.o;
    let c = o.silu(o.conv(cond, 'controlnet.cond_embedding.conv0'));
    c = o.silu(o.conv(o.pool2(c), 'controlnet.cond_embedding.conv1'));
    c = o.silu(o.conv(o.pool2(c), 'controlnet.cond_embedding.conv2'));
    const hint = o.conv(o.pool2(c), 'controlnet.cond_embedding.conv_out');
    const temb = this.timeEmbedding('controlnet', t);
    const enc = this.encode('controlnet', x, temb, ctx, hint);
    return [...enc.skips, enc.mid].map((s, i) => o.conv(s, `controlnet.zero_conv.${i}`));
  }

  private hasParam(name: string): boolean {
    return this.shapes.has(name);
  }
  private channelsOf(name: string): number {
    return this.shapes.get(name)![1];
  }
  private _shapes?: Map<string, number[]>;
  private get shapes(): Map<string, number[]> {
    return (this._shapes ??= new Map(paramSpecs(this.cfg).map((s) => [s.name, s.shape])));
  }
}
