/**
 * Models whose outputs are known functions of their inputs, in the real exports' I/O layout, so the
 * pipeline's wiring (CFG batch, ControlNet residuals → UNet, conditioning scale, timestep, VAE scaling)
 * can be checked exactly. Per batch item b (m(·) = mean over all non-batch elements):
 *   text_encoder  h[b,s,d] = ids[b,s] / 1000                                  (D = 4)
 *   controlnet    r_i[b,…] = cs·(i+1)·q_b,  q_b = m(cond_b) + β·m(h_b) + τ·t_b + ρ·m(sample_b)   (cs only with the input)
 *   unet          out[b] = a·sample[b] + Σ_i m(r_i)_b + c·m(h_b) + d·t_b
 *   vae_decoder   image[b,c,y,x] = latent[b,c,⌊y/8⌋,⌊x/8⌋] for c < 3
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attr, Dim, GraphBuilder } from '../../lib/synth/onnx/graph_builder.js';
import { RESIDUAL_NAMES } from '../../lib/synth/io_spec.js';
import { clipVocab, mergesForWords, mergesTxt } from '../../lib/synth/tiny/tiny_tokenizer.js';
import { SD15_RESIDUAL_FACTORS } from '../../lib/synth/tiny/tiny_models.js';

export const PROBE = { beta: 0.5, tau: 0.001, rho: 0.25, a: 0.9, c: 0.3, d: 0.0005, D: 4 };
export const PROBE_CHANNELS = [2, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4];

export interface ProbeOptions {
  scaleInput: boolean;
  timestepRank: 0 | 1;
  timestepType: 'float' | 'int64';
  idsType: 'int32' | 'int64';
  float16: boolean;
}

class Probe extends GraphBuilder {
  constructor(
    name: string,
    private readonly o: ProbeOptions,
  ) {
    super(name);
  }
  fin(name: string, dims: Dim[]): string {
    const x = this.input(name, this.o.float16 ? 'float16' : 'float', dims);
    return this.o.float16 ? this.op('Cast', [x], { to: attr.int(1) }) : x;
  }
  fout(name: string, dims: Dim[], x: string): void {
    this.output(
      name,
      this.o.float16 ? 'float16' : 'float',
      dims,
      this.o.float16 ? this.op('Cast', [x], { to: attr.int(10) }) : x,
    );
  }
  meanAll(x: string, axes: number[]): string {
    return this.op('Reshape', [
      this.op('ReduceMean', [x], { axes: attr.ints(axes), keepdims: attr.int(1) }),
      this.i64([-1, 1, 1, 1]),
    ]); // [B,1,1,1]
  }
  t(): string {
    const ty = this.o.timestepType === 'int64' ? 'int64' : this.o.float16 ? 'float16' : 'float';
    const t = this.input('timestep', ty, this.o.timestepRank === 1 ? ['batch'] : []);
    return this.op('Reshape', [this.op('Cast', [t], { to: attr.int(1) }), this.i64([-1, 1, 1, 1])]); // [B|1,1,1,1]
  }
}

const latent: Dim[] = ['batch', 4, 'h', 'w'];

function textEncoder(o: ProbeOptions): Uint8Array {
  const g = new Probe('te', o);
  const ids = g.op('Cast', [g.input('input_ids', o.idsType, ['batch', 77])], { to: attr.int(1) });
  const h = g.op('Mul', [g.op('Unsqueeze', [ids, g.i64([2])]), g.f32(Array(PROBE.D).fill(1 / 1000), [PROBE.D])]);
  g.fout('last_hidden_state', ['batch', 77, PROBE.D], h);
  return g.toBytes();
}

function controlNet(o: ProbeOptions): Uint8Array {
  const g = new Probe('cn', o);
  const sample = g.fin('sample', latent);
  const t = g.t();
  const ehs = g.fin('encoder_hidden_states', ['batch', 77, PROBE.D]);
  const cond = g.fin('controlnet_cond', ['batch', 3, 'H', 'W']);
  const terms = [
    g.meanAll(cond, [1, 2, 3]),
    g.op('Mul', [g.meanAll(ehs, [1, 2]), g.f32([PROBE.beta])]),
    g.op('Mul', [t, g.f32([PROBE.tau])]),
    g.op('Mul', [g.meanAll(sample, [1, 2, 3]), g.f32([PROBE.rho])]),
  ];
  let q = terms.reduce((acc, x) => g.op('Add', [acc, x])); // [B,1,1,1]
  if (o.scaleInput)
    q = g.op('Mul', [q, g.op('Cast', [g.input('conditioning_scale', 'double', [1])], { to: attr.int(1) })]);
  RESIDUAL_NAMES.forEach((name, i) => {
    const f = SD15_RESIDUAL_FACTORS[i];
    const pooled =
      f === 1 ? sample : g.op('AveragePool', [sample], { kernel_shape: attr.ints([f, f]), strides: attr.ints([f, f]) });
    const zeros = g.op('Mul', [
      g.op('ReduceMean', [pooled], { axes: attr.ints([1]), keepdims: attr.int(1) }),
      g.f32([0]),
    ]); // [B,1,h/f,w/f]
    const r = g.op('Mul', [
      g.op('Add', [zeros, g.op('Mul', [q, g.f32([i + 1])])]),
      g.f32(Array(PROBE_CHANNELS[i]).fill(1), [1, PROBE_CHANNELS[i], 1, 1]),
    ]);
    g.fout(name, ['batch', PROBE_CHANNELS[i], `h${f}`, `w${f}`], r);
  });
  return g.toBytes();
}

function unet(o: ProbeOptions): Uint8Array {
  const g = new Probe('unet', o);
  const sample = g.fin('sample', latent);
  const t = g.t();
  const ehs = g.fin('encoder_hidden_states', ['batch', 77, PROBE.D]);
  let out = g.op('Add', [
    g.op('Mul', [sample, g.f32([PROBE.a])]),
    g.op('Mul', [g.meanAll(ehs, [1, 2]), g.f32([PROBE.c])]),
  ]);
  out = g.op('Add', [out, g.op('Mul', [t, g.f32([PROBE.d])])]);
  RESIDUAL_NAMES.forEach((name, i) => {
    const f = SD15_RESIDUAL_FACTORS[i];
    out = g.op('Add', [out, g.meanAll(g.fin(name, ['batch', PROBE_CHANNELS[i], `h${f}`, `w${f}`]), [1, 2, 3])]);
  });
  g.fout('out_sample', latent, out);
  return g.toBytes();
}

function vaeDecoder(o: ProbeOptions): Uint8Array {
  const g = new Probe('vae', o);
  const z = g.fin('latent_sample', latent);
  const rgb = g.op('Slice', [z, g.i64([0]), g.i64([3]), g.i64([1])]);
  g.fout(
    'sample',
    ['batch', 3, 'H', 'W'],
    g.op('Resize', [rgb, '', g.f32([1, 1, 8, 8])], { mode: attr.str('nearest') }),
  );
  return g.toBytes();
}

export const PROBE_WORDS = ['a', 'photo', 'of', 'cat', 'dog', 'blurry'];

/** Writes a probe model folder (default layout + tokenizer) into `dir`. */
export function writeProbeFolder(dir: string, o: ProbeOptions): string {
  const merges = mergesForWords(PROBE_WORDS);
  const put = (rel: string, data: string | Uint8Array) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), data);
  };
  put('tokenizer/vocab.json', JSON.stringify(clipVocab(merges)));
  put('tokenizer/merges.txt', mergesTxt(merges));
  put('text_encoder/model.onnx', textEncoder(o));
  put('controlnet/model.onnx', controlNet(o));
  put('unet/model.onnx', unet(o));
  put('vae_decoder/model.onnx', vaeDecoder(o));
  return dir;
}
