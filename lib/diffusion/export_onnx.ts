/**
 * Exports trained tiny-sd weights as an SD 1.5 + ControlNet model folder that `detrlab synth` reads
 * (lib/synth/MODELS.md; checked by lib/synth/io_spec.ts when a session opens):
 *   text_encoder/model.onnx  input_ids int32 [B,77] → last_hidden_state [B,77,D]
 *   controlnet/model.onnx    sample [B,4,h,w], timestep float [B], encoder_hidden_states [B,77,D],
 *                            controlnet_cond [B,3,8h,8w], conditioning_scale double [1]
 *                            → down_block_{0..11}_additional_residual, mid_block_additional_residual (× scale)
 *   unet/model.onnx          sample, timestep, encoder_hidden_states, the 13 residuals → out_sample [B,4,h,w]
 *   vae_decoder/model.onnx   latent_sample [B,4,h,w] → sample [B,3,8h,8w]
 *   vae_encoder/model.onnx   sample [B,3,8h,8w] → latent_sample [B,4,h,w]   (not used by synth; diffusers' name)
 *   tokenizer/               vocab.json, merges.txt, special_tokens_map.json
 *   detrlab_diffusion.json   config, scaling factor, training state
 * SD's pipelines multiply encoder latents by 0.18215 and divide by it before decoding; tiny-sd's own factor is
 * `scalingFactor`, so the encoder output is multiplied by scalingFactor/0.18215 and the decoder input by
 * 0.18215/scalingFactor: the unchanged pipeline then works in tiny-sd's unit-variance latent space.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { replaceDirAtomic } from '../io/atomic.js';
import { RESIDUAL_NAMES } from '../synth/io_spec.js';
import { attr, Dim, GraphBuilder } from '../synth/onnx/graph_builder.js';
import { VAE_SCALING_FACTOR } from '../synth/pipeline.js';
import { OnnxOps } from './ops.js';
import { paramSpecs, skipChannels, TEXT_LENGTH, TinySd, TinySdConfig } from './tiny_sd_model.js';
import { tinySdTokenizerFiles } from './tokenizer_files.js';
import { mergesTxt } from '../synth/tiny/tiny_tokenizer.js';

export const DIFFUSION_MARKER = 'detrlab_diffusion.json';
export type Role = 'text_encoder' | 'controlnet' | 'unet' | 'vae_decoder' | 'vae_encoder';
export const ROLES: Role[] = ['text_encoder', 'controlnet', 'unet', 'vae_decoder', 'vae_encoder'];

export interface ExportOptions {
  float16: boolean;
  scalingFactor: number;
}

type Values = Map<string, { data: Float32Array; shape: number[] }>;

export function shapedValues(cfg: TinySdConfig, values: Map<string, Float32Array>): Values {
  return new Map(paramSpecs(cfg).map((s) => [s.name, { data: values.get(s.name)!, shape: s.shape }]));
}

const LATENT: Dim[] = ['batch', 4, 'height', 'width'];
const IMAGE: Dim[] = ['batch', 3, 'image_height', 'image_width'];
const residualDims = (cfg: TinySdConfig, i: number): Dim[] => {
  const f = [1, 1, 1, 2, 2, 2, 4, 4, 4, 8, 8, 8, 8][i];
  return ['batch', [...skipChannels(cfg), cfg.unetChannels[3]][i], `h_${f}`, `w_${f}`];
};

/** One part as `.onnx` bytes. */
export function exportPart(
  role: Role,
  cfg: TinySdConfig,
  values: Map<string, Float32Array>,
  o: ExportOptions,
): Uint8Array {
  const g = new GraphBuilder(role);
  const ops = new OnnxOps(g, shapedValues(cfg, values), o.float16);
  const m = new TinySd(cfg, ops);
  const meta = {
    detrlab: `tiny-sd ${role} (trained by detrlab train-diffusion)`,
    scaling_factor: String(o.scalingFactor),
  };
  const ehs = () => g.input('encoder_hidden_states', 'float', ['batch', 'sequence', cfg.textDim]);
  const timestep = () => g.input('timestep', 'float', ['batch']);
  switch (role) {
    case 'text_encoder': {
      const ids = g.input('input_ids', 'int32', ['batch', TEXT_LENGTH]);
      g.output('last_hidden_state', 'float', ['batch', TEXT_LENGTH, cfg.textDim], m.text(ids));
      break;
    }
    case 'controlnet': {
      const x = g.input('sample', 'float', LATENT),
        t = timestep(),
        ctx = ehs();
      const cond = g.input('controlnet_cond', 'float', IMAGE);
      const scale = g.op('Cast', [g.input('conditioning_scale', 'double', [1])], { to: attr.int(1) });
      m.controlnet(x, t, ctx, cond).forEach((r, i) =>
        g.output(RESIDUAL_NAMES[i], 'float', residualDims(cfg, i), g.op('Mul', [r, scale])),
      );
      break;
    }
    case 'unet': {
      const x = g.input('sample', 'float', LATENT),
        t = timestep(),
        ctx = ehs();
      const res = RESIDUAL_NAMES.map((n, i) => g.input(n, 'float', residualDims(cfg, i)));
      g.output('out_sample', 'float', LATENT, m.unet(x, t, ctx, res));
      break;
    }
    case 'vae_decoder': {
      const z = g.op('Mul', [g.input('latent_sample', 'float', LATENT), g.f32([VAE_SCALING_FACTOR / o.scalingFactor])]);
      g.output('sample', 'float', IMAGE, m.vaeDecode(z));
      break;
    }
    case 'vae_encoder': {
      const z = m.vaeEncode(g.input('sample', 'float', IMAGE));
      g.output('latent_sample', 'float', LATENT, g.op('Mul', [z, g.f32([o.scalingFactor / VAE_SCALING_FACTOR])]));
      break;
    }
  }
  return g.toBytes(meta);
}

/** Writes the whole model folder atomically; `info` goes into detrlab_diffusion.json. */
export function exportModelFolder(
  dir: string,
  cfg: TinySdConfig,
  values: Map<string, Float32Array>,
  o: ExportOptions,
  info: Record<string, unknown>,
): void {
  replaceDirAtomic(dir, (tmp) => {
    const put = (rel: string, data: string | Uint8Array) => {
      fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
      fs.writeFileSync(path.join(tmp, rel), data);
    };
    const tok = tinySdTokenizerFiles();
    put('tokenizer/vocab.json', JSON.stringify(tok.vocab));
    put('tokenizer/merges.txt', mergesTxt(tok.merges));
    put(
      'tokenizer/special_tokens_map.json',
      JSON.stringify({
        bos_token: '<|startoftext|>',
        eos_token: '<|endoftext|>',
        unk_token: '<|endoftext|>',
        pad_token: '<|endoftext|>',
      }),
    );
    for (const role of ROLES) put(`${role}/model.onnx`, exportPart(role, cfg, values, o));
    put(
      DIFFUSION_MARKER,
      JSON.stringify(
        {
          kind: 'tiny-sd',
          note: 'trained by detrlab train-diffusion on the demo crops; not Stable Diffusion 1.5',
          config: cfg,
          scalingFactor: o.scalingFactor,
          float16Weights: o.float16,
          ...info,
        },
        null,
        2,
      ) + '\n',
    );
  });
}
