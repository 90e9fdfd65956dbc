/**
 * The tiny test models: every export variant they can imitate opens under the real layouts, stays small,
 * and float16 / int64 / scalar-timestep variants give the same picture as the float32 default.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeTinyFolder } from '../../lib/synth/tiny/tiny_folder.js';
import { TinyModelConfig } from '../../lib/synth/tiny/tiny_models.js';
import { resolveModelFolder } from '../../lib/synth/model_folder.js';
import { ControlNetPipeline } from '../../lib/synth/pipeline.js';

async function render(o: Partial<TinyModelConfig>): Promise<{ image: Float32Array; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-tiny-'));
  writeTinyFolder(dir, o);
  const pipe = await ControlNetPipeline.load(resolveModelFolder(dir), ['cpu'], 1);
  const control = Float32Array.from({ length: 3 * 64 * 64 }, (_, k) => (k % 64 === 20 ? 1 : 0)); // a vertical line
  const r = await pipe.generate({
    prompt: 'a photo of a cat',
    negativePrompt: '',
    control,
    width: 64,
    height: 64,
    steps: 6,
    guidance: 7.5,
    scheduler: 'euler-a',
    conditioningScale: 1,
    seed: 3,
  });
  await pipe.dispose();
  return { image: r.image, dir };
}

const meanAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

test('tiny folder: four models in the real layouts, each well under a megabyte, marked as tiny', async () => {
  const { image, dir } = await render({});
  const files = resolveModelFolder(dir);
  assert.ok(files.tiny && /^tiny-sd v\d+$/.test(files.fingerprint));
  for (const f of [files.textEncoder, files.controlnet, files.unet, files.vaeDecoder])
    assert.ok(fs.statSync(f).size < 1e6, f);
  assert.ok(image.every(Number.isFinite));
  assert.ok(Math.max(...image) - Math.min(...image) > 0.2, 'not a flat image');
});

test('float16, int64 ids, scalar int64 timestep and no conditioning_scale input: the same picture', async () => {
  const ref = (await render({})).image;
  const f16 = (await render({ float16: true })).image;
  assert.ok(meanAbsDiff(ref, f16) < 0.02, `float16 differs by ${meanAbsDiff(ref, f16)}`);
  const other = (
    await render({ inputIdsType: 'int64', timestepType: 'int64', timestepRank: 0, conditioningScaleInput: false })
  ).image;
  assert.ok(meanAbsDiff(ref, other) < 0.05, `int64/scalar variant differs by ${meanAbsDiff(ref, other)}`);
});
