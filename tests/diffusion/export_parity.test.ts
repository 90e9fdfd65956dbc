/**
 * Each exported tiny-sd part, run by onnxruntime, equals the tfjs model it came from (same inputs, outputs
 * within 1e-4), in float32 and with float16-stored weights (against tfjs on the same rounded weights).
 * Weights are random everywhere (the zero-initialised ControlNet convs too), so every path carries signal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/backend.js';
import { Rng } from '../../lib/engine/rng.js';
import { OnnxModel, HostTensor } from '../../lib/synth/onnx_session.js';
import { MODEL_SPECS, RESIDUAL_NAMES } from '../../lib/synth/io_spec.js';
import { fromHalf, toHalf } from '../../lib/synth/half.js';
import { TfOps } from '../../lib/diffusion/ops.js';
import { DEFAULT_TINY_SD, paramSpecs, TinySd, TinySdConfig } from '../../lib/diffusion/tiny_sd_model.js';
import { exportPart, Role } from '../../lib/diffusion/export_onnx.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const cfg: TinySdConfig = { ...DEFAULT_TINY_SD, vocabSize: 300 };
const B = 2,
  S = 64,
  h = 8;

function randomValues(seed: number, c: TinySdConfig = cfg): Map<string, Float32Array> {
  const rng = new Rng(seed);
  return new Map(
    paramSpecs(c).map((s) => {
      const n = s.shape.reduce((a, b) => a * b, 1);
      const fanIn = s.shape.length === 4 ? s.shape[0] * s.shape[1] * s.shape[2] : s.shape[0];
      return [s.name, rng.normals(n, s.name.endsWith('.bias') ? 0.1 : 1 / Math.sqrt(fanIn))];
    }),
  );
}

async function session(
  role: Role,
  values: Map<string, Float32Array>,
  float16: boolean,
  c: TinySdConfig = cfg,
): Promise<OnnxModel> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-tinysd-')), `${role}.onnx`);
  fs.writeFileSync(file, exportPart(role, c, values, { float16, scalingFactor: 0.5 }));
  return OnnxModel.open(file, {
    providers: ['cpu'],
    threads: 1,
    spec: role === 'vae_encoder' ? undefined : MODEL_SPECS[role],
  });
}

const nchw = (x: Float32Array, dims: number[]): HostTensor => {
  // NHWC data → NCHW host tensor
  const [b, hh, ww, c] = dims;
  const out = new Float32Array(x.length);
  for (let i = 0; i < b; i++)
    for (let y = 0; y < hh; y++)
      for (let xx = 0; xx < ww; xx++)
        for (let k = 0; k < c; k++) {
          out[((i * c + k) * hh + y) * ww + xx] = x[((i * hh + y) * ww + xx) * c + k];
        }
  return { data: out, dims: [b, c, hh, ww] };
};

function assertClose(onnx: HostTensor, ref: tf.Tensor, what: string): void {
  const r = ref.dataSync() as Float32Array;
  const want = ref.rank === 4 ? (nchw(r, ref.shape).data as Float32Array) : r;
  const got = onnx.data as Float32Array;
  assert.equal(got.length, want.length, `${what}: size`);
  let max = 0,
    scale = 0;
  for (let i = 0; i < got.length; i++) {
    max = Math.max(max, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  assert.ok(scale > 1e-3, `${what}: output is ~0, the comparison would be empty`);
  assert.ok(max <= 1e-4, `${what}: max |onnx − tfjs| = ${max}`);
}

for (const float16 of [false, true]) {
  test(`tiny-sd export (${float16 ? 'float16' : 'float32'} weights): every part equals tfjs within 1e-4`, async () => {
    await initEngine({ log: null });
    let values = randomValues(1);
    if (float16) values = new Map([...values].map(([k, v]) => [k, fromHalf(toHalf(v))]));
    const vars = new Map(
      [...values].map(([k, v]) => [k, tf.tensor(v, paramSpecs(cfg).find((s) => s.name === k)!.shape)]),
    );
    const m = new TinySd(cfg, new TfOps(vars, cfg.vocabSize));
    const rng = new Rng(2);
    const ids = Int32Array.from({ length: B * 77 }, () => rng.int(0, cfg.vocabSize - 1));
    const lat = rng.normals(B * h * h * 4),
      img = rng.normals(B * S * S * 3, 0.5),
      cond = Float32Array.from({ length: B * S * S * 3 }, () => (rng.bool(0.2) ? 1 : 0));
    const ts = Float32Array.of(981, 17);
    const ctx = m.text(tf.tensor2d(ids, [B, 77], 'int32'));

    const te = await session('text_encoder', values, float16);
    assertClose((await te.run({ input_ids: { data: ids, dims: [B, 77] } })).last_hidden_state, ctx, 'text_encoder');

    const ctxHost: HostTensor = { data: ctx.dataSync() as Float32Array, dims: [B, 77, cfg.textDim] };
    const latT = tf.tensor4d(lat, [B, h, h, 4]),
      condT = tf.tensor4d(cond, [B, S, S, 3]),
      tT = tf.tensor1d(ts);
    const res = m.controlnet(latT, tT, ctx, condT).map((r) => tf.mul(r, 0.7));
    const cn = await session('controlnet', values, float16);
    const cnOut = await cn.run({
      sample: nchw(lat, [B, h, h, 4]),
      timestep: { data: ts, dims: [B] },
      encoder_hidden_states: ctxHost,
      controlnet_cond: nchw(cond, [B, S, S, 3]),
      conditioning_scale: { data: Float64Array.of(0.7), dims: [1] },
    });
    RESIDUAL_NAMES.forEach((n, i) => assertClose(cnOut[n], res[i], `controlnet ${n}`));

    const un = await session('unet', values, float16);
    const feeds: Record<string, HostTensor> = {
      sample: nchw(lat, [B, h, h, 4]),
      timestep: { data: ts, dims: [B] },
      encoder_hidden_states: ctxHost,
    };
    RESIDUAL_NAMES.forEach((n, i) => {
      feeds[n] = nchw(res[i].dataSync() as Float32Array, res[i].shape);
    });
    assertClose((await un.run(feeds)).out_sample, m.unet(latT, tT, ctx, res), 'unet');

    const dec = await session('vae_decoder', values, float16);
    const decRef = m.vaeDecode(tf.mul(latT, 0.18215 / 0.5));
    assertClose((await dec.run({ latent_sample: nchw(lat, [B, h, h, 4]) })).sample, decRef, 'vae_decoder');

    const enc = await session('vae_encoder', values, float16);
    const encRef = tf.mul(m.vaeEncode(tf.tensor4d(img, [B, S, S, 3])), 0.5 / 0.18215);
    assertClose((await enc.run({ sample: nchw(img, [B, S, S, 3]) })).latent_sample, encRef, 'vae_encoder');
    for (const s of [te, cn, un, dec, enc]) await s.dispose();
  });
}

test('tiny-sd export: a replacement decoder (wider, residual blocks at every resolution) equals tfjs within 1e-4', async () => {
  await initEngine({ log: null });
  const c: TinySdConfig = { ...cfg, decoder: { channels: [8, 12, 16, 20], blocks: 2 } };
  const specs = paramSpecs(c);
  assert.equal(specs.filter((s) => s.name.startsWith('vae.dec.block')).length, 2 * 2 * 2 * 4, 'block parameters');
  const values = randomValues(3, c);
  const vars = new Map([...values].map(([k, v]) => [k, tf.tensor(v, specs.find((s) => s.name === k)!.shape)]));
  const m = new TinySd(c, new TfOps(vars, c.vocabSize));
  const lat = new Rng(4).normals(B * h * h * 4);
  const dec = await session('vae_decoder', values, false, c);
  const ref = m.vaeDecode(tf.mul(tf.tensor4d(lat, [B, h, h, 4]), 0.18215 / 0.5));
  assert.deepEqual(ref.shape, [B, S, S, 3]);
  assertClose((await dec.run({ latent_sample: nchw(lat, [B, h, h, 4]) })).sample, ref, 'vae_decoder with blocks');
  await dec.dispose();
});

test('tiny-sd export: an autoencoder with other channels and residual blocks (--vae-channels, --vae-blocks) equals tfjs within 1e-4, both halves', async () => {
  await initEngine({ log: null });
  const c: TinySdConfig = { ...cfg, vaeChannels: [8, 12, 20, 24], vaeBlocks: 2 };
  const specs = paramSpecs(c);
  // 2 blocks × 2 convs × (weight, bias) at S/2, S/4, S/8; none at full resolution
  assert.equal(specs.filter((s) => s.name.startsWith('vae.enc.block')).length, 2 * 2 * 2 * 3, 'encoder blocks');
  assert.equal(specs.filter((s) => s.name.startsWith('vae.dec.block')).length, 2 * 2 * 2 * 3, 'decoder blocks');
  assert.ok(!specs.some((s) => /^vae\.(enc|dec)\.block0\./.test(s.name)), 'no full-resolution block');
  assert.deepEqual(specs.find((s) => s.name === 'vae.enc.block3.1.conv2.weight')?.shape, [3, 3, 24, 24]);
  const values = randomValues(5, c);
  const vars = new Map([...values].map(([k, v]) => [k, tf.tensor(v, specs.find((s) => s.name === k)!.shape)]));
  const m = new TinySd(c, new TfOps(vars, c.vocabSize));
  const rng = new Rng(6);
  const img = rng.normals(B * S * S * 3),
    lat = rng.normals(B * h * h * 4);
  const enc = await session('vae_encoder', values, false, c);
  const encRef = tf.mul(m.vaeEncode(tf.tensor4d(img, [B, S, S, 3])), 0.5 / 0.18215);
  assertClose((await enc.run({ sample: nchw(img, [B, S, S, 3]) })).latent_sample, encRef, 'vae_encoder with blocks');
  const dec = await session('vae_decoder', values, false, c);
  const decRef = m.vaeDecode(tf.mul(tf.tensor4d(lat, [B, h, h, 4]), 0.18215 / 0.5));
  assertClose((await dec.run({ latent_sample: nchw(lat, [B, h, h, 4]) })).sample, decRef, 'vae_decoder with blocks');
  await enc.dispose();
  await dec.dispose();
});
