/**
 * `detrlab synth` end to end on the tiny models: the data contract, seeds (same → same bytes, different →
 * different image), shards that add up to a single run, resume after a SIGKILL that makes exactly the missing
 * images, tiny models written on first use, and clear errors for a bad model folder or class.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import sharp from 'sharp';
import { buildCrops } from '../../lib/crops/crop_dataset.js';
import { synthesize, readSynthMetadata, synthClasses } from '../../lib/synth/synth_stage.js';
import { resolveSynthParams } from '../../lib/synth/synth_params.js';
import { SynthParams } from '../../lib/synth/synth_params.js';
import { parseShard, planJobs } from '../../lib/synth/synth_jobs.js';
import { readCropManifest } from '../../lib/crops/crop_viz.js';
import { writeTinyFolder } from '../../lib/synth/tiny/tiny_folder.js';
import { GraphBuilder } from '../../lib/synth/onnx/graph_builder.js';
import { isUserError } from '../../lib/params/user_error.js';
import { makeFixtureSubset } from '../crops/fixture_subset.js';

process.env.DETRLAB_QUIET = '1';

const setup = (async () => {
  const root = await makeFixtureSubset();
  const base = path.dirname(root);
  const crops = path.join(base, 'crops');
  await buildCrops({ dataRoot: root, out: crops, size: 32 });
  const models = path.join(base, 'tiny');
  fs.mkdirSync(models);
  writeTinyFolder(models);
  return { base, crops, models };
})();

after(async () => fs.rmSync((await setup).base, { recursive: true, force: true }));

async function params(out: string, o: Partial<SynthParams> = {}): Promise<Partial<SynthParams>> {
  const { base, crops, models } = await setup;
  return {
    crops,
    modelDir: models,
    out: path.join(base, out),
    examples: path.join(base, out + '-examples'),
    size: 64,
    steps: 3,
    perClass: 2,
    ...o,
  };
}

/** Every file under a folder (relative path → bytes), hidden records included. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

test('contract: one image, control image and metadata line per job; grid and README name the models', async () => {
  const p = await params('contract');
  const s = await synthesize(p);
  assert.deepEqual([s.generated, s.skipped, s.planned], [6, 0, 6]); // rare classes (k = 3) × 2
  assert.match(s.models, /tiny-sd/);
  const meta = readSynthMetadata(p.out!);
  assert.deepEqual(
    meta.map((m) => `${m.class}/${m.index}`),
    ['square/0', 'square/1', 'star/0', 'star/1', 'triangle/0', 'triangle/1'],
  );
  for (const m of meta) {
    for (const k of [
      'file',
      'class',
      'prompt',
      'negativePrompt',
      'seed',
      'steps',
      'guidance',
      'scheduler',
      'sourceCrop',
      'controlImage',
      'models',
    ] as const)
      assert.ok(m[k] !== undefined, k);
    assert.equal(m.prompt, `a photo of a ${m.class}, high quality, detailed, realistic lighting`);
    const img = await sharp(path.join(p.out!, m.file)).metadata();
    assert.deepEqual([img.width, img.height, img.channels], [64, 64, 3]);
    assert.ok(fs.existsSync(path.join(p.out!, m.controlImage)));
    assert.ok(fs.existsSync(m.sourceCrop));
  }
  assert.match(fs.readFileSync(path.join(p.examples!, 'README.md'), 'utf8'), /tiny-sd \(random-weight test models/);
  assert.ok(fs.statSync(path.join(p.examples!, 'grid.png')).size > 0);
  const again = await synthesize(p);
  assert.deepEqual([again.generated, again.skipped, again.stale], [0, 6, 0]);
});

test('an image whose crop changed (crops rebuilt from other data) is made again; the others are kept', async () => {
  const { base, crops } = await setup;
  const mine = path.join(base, 'crops-changed');
  fs.cpSync(crops, mine, { recursive: true });
  const p = await params('crop-changed', { crops: mine });
  await synthesize(p);
  const before = snapshot(p.out!);
  const jobs = planJobs(synthClasses(resolveSynthParams(p)), 2, readCropManifest(mine), 0, parseShard('0/1'));
  const victim = jobs[0];
  const other = jobs.find((j) => j.class !== victim.class)!;
  // another crop under the same file name: a crop of another class
  fs.copyFileSync(path.join(mine, other.crop.file), path.join(mine, victim.crop.file));
  const hit = jobs.filter((j) => j.crop.file === victim.crop.file); // the jobs conditioned on that crop
  const s = await synthesize(p);
  assert.deepEqual([s.generated, s.stale, s.skipped], [hit.length, hit.length, jobs.length - hit.length]);
  const after = snapshot(p.out!);
  const differs = [...after.keys()].filter((k) => !before.get(k)?.equals(after.get(k)!)).sort();
  const allowed = new Set(['metadata.jsonl', ...hit.flatMap((j) => [j.file, j.controlFile, j.recordFile])]);
  for (const j of hit) assert.ok(differs.includes(j.file) && differs.includes(j.controlFile), differs.join(', '));
  for (const k of differs) assert.ok(allowed.has(k), `${k} changed`);
  const again = await synthesize(p);
  assert.deepEqual([again.generated, again.stale], [0, 0]);
});

test('seeds: the same seed gives the same bytes, another seed another image', async () => {
  const a = await synthesize(await params('seed-a', { classes: ['star'], perClass: 1 }));
  await synthesize(await params('seed-b', { classes: ['star'], perClass: 1 }));
  await synthesize(await params('seed-c', { classes: ['star'], perClass: 1, seed: 1 }));
  const px = async (out: string) =>
    sharp(path.join((await params(out)).out!, 'star', '0.png'))
      .raw()
      .toBuffer();
  assert.equal(a.generated, 1);
  assert.deepEqual(await px('seed-a'), await px('seed-b'));
  const x: Buffer = await px('seed-a'),
    z: Buffer = await px('seed-c');
  let meanAbs = 0;
  for (let i = 0; i < x.length; i++) meanAbs += Math.abs(x[i] - z[i]) / x.length;
  assert.ok(meanAbs > 2, `different seeds should differ visibly, mean |Δ| = ${meanAbs}`);
});

test('shards 0/2 + 1/2 into one folder equal a single run, file for file', async () => {
  const one = await params('single', { perClass: 3 });
  await synthesize(one);
  const s0 = await synthesize(await params('sharded', { perClass: 3, shard: '0/2' }));
  const s1 = await synthesize(await params('sharded', { perClass: 3, shard: '1/2' }));
  assert.deepEqual([s0.planned, s1.planned], [5, 4]);
  assert.deepEqual(snapshot((await params('sharded')).out!), snapshot(one.out!));
});

test('resume after SIGKILL makes exactly the missing images, identical to an uninterrupted run', async () => {
  const p = await params('killed', { perClass: 4, steps: 15 });
  const ref = await params('unkilled', { perClass: 4, steps: 15 });
  const code = `process.env.DETRLAB_QUIET='1'; require(${JSON.stringify(path.resolve(__dirname, '../../lib/synth/synth_stage.js'))}).synthesize(${JSON.stringify(p)})`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  const records = path.join(p.out!, '.records');
  const count = () =>
    fs.existsSync(records)
      ? fs
          .readdirSync(records)
          .reduce((n, c) => n + fs.readdirSync(path.join(records, c)).filter((f) => f.endsWith('.json')).length, 0)
      : 0;
  await new Promise<void>((resolve) => {
    const h = setInterval(() => {
      if (count() >= 2) {
        clearInterval(h);
        child.kill('SIGKILL');
        resolve();
      }
    }, 5);
  });
  await new Promise((r) => child.once('exit', r));
  const done = count();
  const resumed = await synthesize(p);
  assert.ok(done < 12, `the child was killed before finishing (${done} done)`);
  assert.deepEqual([resumed.generated, resumed.skipped], [12 - done, done]);
  await synthesize(ref);
  assert.deepEqual(snapshot(p.out!), snapshot(ref.out!)); // no partial or temp file left
});

test("an empty --model-dir writes the random-weight tiny models to data/models/tiny-sd on first use; the default is the demo's trained model", async () => {
  assert.equal(resolveSynthParams().modelDir, 'models/tiny-sd-demo');
  assert.equal(resolveSynthParams().size, 0, "0 = the model's own size");
  const { base, crops } = await setup;
  const cwd = process.cwd();
  process.chdir(base);
  try {
    const s = await synthesize({
      crops,
      modelDir: '',
      out: 'first-use',
      examples: '',
      size: 64,
      steps: 2,
      perClass: 1,
      classes: ['star'],
    });
    assert.ok(fs.existsSync(path.join(base, 'data', 'models', 'tiny-sd', 'detrlab_tiny.json')));
    assert.match(readSynthMetadata('first-use')[0].models, /tiny-sd \(random-weight/);
    assert.equal(s.grid, undefined);
  } finally {
    process.chdir(cwd);
  }
});

test('errors: a model with a wrong input name, other settings in a used folder, unknown classes, bad shards', async () => {
  const { base } = await setup;
  const bad = path.join(base, 'bad-models');
  fs.mkdirSync(bad);
  writeTinyFolder(bad);
  const g = new GraphBuilder('te');
  g.output('last_hidden_state', 'float', ['b', 77, 32], g.op('Identity', [g.input('ids', 'float', ['b', 77, 32])]));
  fs.writeFileSync(path.join(bad, 'text_encoder', 'model.onnx'), g.toBytes());
  await assert.rejects(
    synthesize(await params('bad', { modelDir: bad })),
    (e) =>
      isUserError(e) &&
      /text_encoder\/model\.onnx/.test((e as Error).message) &&
      /input 'input_ids' is missing/.test((e as Error).message) &&
      /'ids'/.test((e as Error).message),
  );
  await assert.rejects(
    synthesize(await params('contract', { steps: 4 })),
    (e) => isUserError(e) && /other settings.*steps: 3/.test((e as Error).message),
  );
  await assert.rejects(
    synthesize(await params('x', { classes: ['unicorn'] })),
    (e) => isUserError(e) && /'unicorn' has no crops/.test((e as Error).message),
  );
  assert.throws(
    () => parseShard('2/2'),
    (e) => isUserError(e) && /0 ≤ i < n/.test((e as Error).message),
  );
});

test('jobs: shards partition the job list; seeds and crops do not depend on the shard', async () => {
  const { crops } = await setup;
  const man = readCropManifest(crops);
  const all = planJobs(['star', 'circle'], 5, man, 0, [0, 1]);
  const parts = [0, 1, 2].flatMap((i) => planJobs(['star', 'circle'], 5, man, 0, [i, 3]));
  assert.deepEqual(parts.map((j) => j.file).sort(), all.map((j) => j.file).sort());
  const byFile = new Map(all.map((j) => [j.file, j]));
  for (const j of parts)
    assert.deepEqual([j.seed, j.crop.file], [byFile.get(j.file)!.seed, byFile.get(j.file)!.crop.file]);
  assert.equal(new Set(all.map((j) => j.seed)).size, all.length);
  assert.ok(
    all.filter((j) => j.class === 'star').every((j) => j.crop.file === all[0].crop.file),
    'star has one train crop, reused',
  );
});
