/**
 * train-diffusion on a hand-made crops folder: a run stopped mid-way (once inside the autoencoder phase, once
 * inside the diffusion phase) and resumed ends with exactly the bytes of an uninterrupted run; the exported
 * model samples deterministically per seed through the unchanged synth pipeline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/backend.js';
import { exportCheckpoint, gradientDifference, trainDiffusion } from '../../lib/diffusion/train_diffusion.js';
import { resolveTrainDiffusionParams, TrainDiffusionParams } from '../../lib/diffusion/train_diffusion_params.js';
import { resolveModelFolder } from '../../lib/synth/model_folder.js';
import { ControlNetPipeline } from '../../lib/synth/pipeline.js';
import { UserError } from '../../lib/params/user_error.js';

/** Two classes of 64 px crops: red discs and blue bars on grey, 3 each. */
async function cropsFolder(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-dcrops-'));
  const lines: string[] = [];
  for (const [c, label] of [
    ['cat', 0],
    ['dog', 1],
  ] as const) {
    fs.mkdirSync(path.join(dir, 'train', c), { recursive: true });
    for (let i = 0; i < 3; i++) {
      const px = Buffer.alloc(64 * 64 * 3, 128);
      for (let y = 0; y < 64; y++)
        for (let x = 0; x < 64; x++) {
          const inside = c === 'cat' ? (x - 32 - i * 3) ** 2 + (y - 30) ** 2 < 200 : Math.abs(x - 20 - i * 8) < 5;
          if (inside) px.set(c === 'cat' ? [220, 30, 30] : [30, 30, 220], (y * 64 + x) * 3);
        }
      const file = `train/${c}/${i}.png`;
      await sharp(px, { raw: { width: 64, height: 64, channels: 3 } })
        .png()
        .toFile(path.join(dir, file));
      lines.push(
        JSON.stringify({
          file,
          split: 'train',
          class: c,
          label,
          imageId: i,
          annotationId: label * 10 + i,
          bboxXywh: [0, 0, 64, 64],
          source: 'x',
          cropXywh: [0, 0, 64, 64],
        }),
      );
    }
  }
  fs.writeFileSync(path.join(dir, 'manifest.jsonl'), lines.join('\n') + '\n');
  fs.writeFileSync(
    path.join(dir, 'classes.json'),
    JSON.stringify({ classes: ['cat', 'dog'], rare: ['dog'], counts: {}, params: {} }),
  );
  return dir;
}

const params = (crops: string, out: string, o: Partial<TrainDiffusionParams> = {}): TrainDiffusionParams =>
  resolveTrainDiffusionParams({
    crops,
    out,
    batch: 2,
    vaeSteps: 3,
    steps: 4,
    checkpointEvery: 1,
    backend: 'wasm',
    quiet: true,
    float16: false,
    ...o,
  });

const weights = (out: string) => fs.readFileSync(path.join(out, 'checkpoints', 'last', 'model.safetensors'));

const DECODER = { decoderSteps: 3, decoderChannels: [4, 6, 8, 8], decoderBlocks: 1 };
const ALL_PHASES = { ...DECODER, tuneSteps: 2 };

test('train-diffusion: stopped in any phase and resumed = uninterrupted, byte for byte; other settings are refused', async () => {
  const crops = await cropsFolder();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-dtrain-'));
  const full = await trainDiffusion(params(crops, path.join(tmp, 'full'), ALL_PHASES));
  assert.equal(full.state.phase, 'done');
  assert.deepEqual(full.state.finished, ['vae', 'diffusion', 'decoder', 'tune']);
  assert.deepEqual(full.state.cfg.decoder, { channels: [4, 6, 8, 8], blocks: 1 });
  for (const stopAt of [2, 5, 8, 11]) {
    // 2: inside the autoencoder phase (3 steps); 5: diffusion (4); 8: decoder (3); 11: tune (2)
    const out = path.join(tmp, `resumed-${stopAt}`);
    const first = await trainDiffusion(params(crops, out, { ...ALL_PHASES, maxSteps: stopAt }));
    assert.ok(first.stoppedEarly);
    assert.notDeepEqual(weights(out), weights(path.join(tmp, 'full')));
    const second = await trainDiffusion(params(crops, out, ALL_PHASES));
    assert.equal(second.state.phase, 'done');
    assert.ok(
      weights(out).equals(weights(path.join(tmp, 'full'))),
      `resumed after ${stopAt} steps differs from the uninterrupted run`,
    );
    assert.equal(second.state.scalingFactor, full.state.scalingFactor);
  }
  await assert.rejects(trainDiffusion(params(crops, path.join(tmp, 'full'), { ...ALL_PHASES, lr: 0.5 })), UserError);
  await assert.rejects(
    trainDiffusion(params(crops, path.join(tmp, 'full'), { ...ALL_PHASES, decoderSteps: 0 })),
    UserError,
  );
  // a finished run given the tune phase afterwards = the run that had it from the start
  const later = path.join(tmp, 'later');
  await trainDiffusion(params(crops, later, DECODER));
  const more = await trainDiffusion(params(crops, later, ALL_PHASES));
  assert.deepEqual(more.state.finished, ['vae', 'diffusion', 'decoder', 'tune']);
  assert.ok(weights(later).equals(weights(path.join(tmp, 'full'))), 'tune added later differs from the one-go run');
});

test('train-diffusion --vae-channels/--vae-blocks: recorded in the config, a stop inside the autoencoder phase resumes byte for byte, other values are refused', async () => {
  const crops = await cropsFolder();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-dvae-'));
  const VAE = { vaeChannels: [4, 6, 8, 8], vaeBlocks: 1, steps: 2 };
  const full = path.join(tmp, 'full'),
    resumed = path.join(tmp, 'resumed');
  const r = await trainDiffusion(params(crops, full, VAE));
  assert.deepEqual([r.state.cfg.vaeChannels, r.state.cfg.vaeBlocks], [[4, 6, 8, 8], 1]);
  assert.ok((await trainDiffusion(params(crops, resumed, { ...VAE, maxSteps: 2 }))).stoppedEarly);
  await assert.rejects(trainDiffusion(params(crops, resumed, { ...VAE, vaeBlocks: 0 })), UserError);
  await trainDiffusion(params(crops, resumed, VAE));
  assert.ok(weights(resumed).equals(weights(full)), 'resumed differs from the uninterrupted run');
});

test('train-diffusion: a finished run made before the decoder phase existed continues into it, as if run in one go', async () => {
  const crops = await cropsFolder();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-dlegacy-'));
  const full = path.join(tmp, 'full'),
    old = path.join(tmp, 'old');
  await trainDiffusion(params(crops, full, DECODER));
  await trainDiffusion(params(crops, old));
  const before = weights(old);
  // what a checkpoint written before the decoder phase existed records: no decoder keys in its parameters
  const stateFile = path.join(old, 'checkpoints', 'last', 'trainer_state.json');
  const st = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  // … nor the autoencoder's shape, which it was made with the defaults of
  for (const k of [
    'decoderSteps',
    'decoderLr',
    'decoderChannels',
    'decoderBlocks',
    'gdlWeight',
    'vaeChannels',
    'vaeBlocks',
  ])
    delete st.params[k];
  fs.writeFileSync(stateFile, JSON.stringify(st));
  const r = await trainDiffusion(params(crops, old, DECODER));
  assert.equal(r.state.phase, 'done');
  assert.notDeepEqual(weights(old), before);
  assert.ok(weights(old).equals(weights(full)), 'continued legacy run differs from the one-go run');
});

test('gradient difference loss: hand-computed values, 0 for identical images and for a brightness offset', async () => {
  await initEngine({ backend: 'cpu', log: null });
  const zero = tf.zeros([1, 2, 2, 1]);
  // y = [[0,1],[0,0]]: |∂x y| = [1, 0] (mean 0.5), |∂y y| = [0, 1] (mean 0.5) against all-zero gradients of x
  const y = tf.tensor4d([0, 1, 0, 0], [1, 2, 2, 1]);
  assert.ok(Math.abs((await gradientDifference(y, zero).data())[0] - 1) < 1e-7);
  const img = tf.tensor4d(
    Float32Array.from({ length: 2 * 5 * 4 * 3 }, (_, i) => Math.sin(i * 1.7)),
    [2, 5, 4, 3],
  );
  assert.equal((await gradientDifference(img, img).data())[0], 0);
  assert.ok((await gradientDifference(tf.add(img, 0.3), img).data())[0] < 1e-6);
  // a blurred copy has smaller gradients: GDL > 0 where the L1/L2 of the difference may be small
  const blur = tf.mul(tf.add(img, tf.reverse(img, 2)), 0.5);
  assert.ok((await gradientDifference(blur, img).data())[0] > 0.1);
});

test("an exported tiny-sd folder samples deterministically per seed through detrlab synth's pipeline", async () => {
  const crops = await cropsFolder();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-dexport-'));
  const p = params(crops, out, { vaeSteps: 2, steps: 2 });
  await trainDiffusion(p);
  const dir = exportCheckpoint(p);
  const files = resolveModelFolder(dir);
  assert.equal(files.tiny, false);
  assert.equal(files.nativeSize, 64, "synth's --size 0 takes the trained size from detrlab_diffusion.json");
  const pipe = await ControlNetPipeline.load(files, ['cpu'], 1);
  const control = Float32Array.from({ length: 3 * 64 * 64 }, (_, k) => (k % 64 === 20 ? 1 : 0));
  const gen = (seed: number, scheduler: 'ddim' | 'euler-a' | 'dpmpp-2m') =>
    pipe.generate({
      prompt: 'a photo of a cat',
      negativePrompt: '',
      control,
      width: 64,
      height: 64,
      steps: 4,
      guidance: 3,
      scheduler,
      conditioningScale: 1,
      seed,
    });
  for (const s of ['ddim', 'euler-a', 'dpmpp-2m'] as const) {
    const [a, b, c] = [await gen(7, s), await gen(7, s), await gen(8, s)];
    assert.deepEqual(a.image, b.image, `${s}: same seed, different image`);
    assert.notDeepEqual(a.image, c.image, `${s}: another seed, same image`);
    assert.ok(a.image.every((v) => Number.isFinite(v) && v >= 0 && v <= 1));
  }
  await pipe.dispose();
});

test("the demo's committed model folder: trained at 64 px, shown by its path relative to the project", () => {
  const files = resolveModelFolder('models/tiny-sd-demo');
  assert.equal(files.nativeSize, 64);
  assert.equal(files.label, path.join('models', 'tiny-sd-demo'));
  assert.equal(files.tiny, false);
});
