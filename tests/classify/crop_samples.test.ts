import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { UserError } from '../../lib/params/user_error.js';
import { capPerClass, readCropsData, readSynthData, trainedModelNote } from '../../lib/classify/crop_samples.js';
import {
  CLASSES,
  makeCropsFixture,
  makeSynthFixture,
  RARE,
  SYNTH_COUNTS,
  TRAIN_COUNTS,
  VAL_COUNTS,
} from './fixtures.js';

test('crops: train and val samples with labels from classes.json, rare classes, manifest order', async () => {
  const dir = await makeCropsFixture();
  const d = readCropsData(dir);
  assert.deepEqual(d.classes, CLASSES);
  assert.deepEqual(d.rare, RARE);
  assert.equal(
    d.train.length,
    TRAIN_COUNTS.reduce((a, b) => a + b, 0),
  );
  assert.equal(
    d.val.length,
    VAL_COUNTS.reduce((a, b) => a + b, 0),
  );
  for (const s of [...d.train, ...d.val]) {
    assert.equal(CLASSES[s.label], s.class);
    assert.ok(fs.existsSync(s.file));
    assert.equal(s.source, 'real');
  }
  assert.deepEqual(
    d.train.map((s) => s.key),
    [...d.train.map((s) => s.key)].sort((a, b) => Number(/(\d+)\.png/.exec(a)![1]) - Number(/(\d+)\.png/.exec(b)![1])),
  );
});

test('capPerClass keeps at most N per class, chosen by the seed, in manifest order', async () => {
  const d = readCropsData(await makeCropsFixture());
  const capped = capPerClass(d.train, 3, 0);
  assert.deepEqual(
    CLASSES.map((c) => capped.filter((s) => s.class === c).length),
    TRAIN_COUNTS.map((n) => Math.min(n, 3)),
  );
  assert.deepEqual(capPerClass(d.train, 3, 0), capped);
  const order = d.train.map((s) => s.key);
  assert.deepEqual(
    capped.map((s) => order.indexOf(s.key)),
    [...capped.map((s) => order.indexOf(s.key))].sort((a, b) => a - b),
  );
});

test('synth: only rare classes are used, the rest counted; tiny models are named as such', async () => {
  const crops = readCropsData(await makeCropsFixture());
  const s = readSynthData(await makeSynthFixture(), crops);
  assert.deepEqual(s.perClass, { blue: SYNTH_COUNTS.blue, yellow: SYNTH_COUNTS.yellow });
  assert.equal(s.ignored, SYNTH_COUNTS.red);
  assert.ok(s.samples.every((x) => x.source === 'synth' && RARE.includes(x.class) && CLASSES[x.label] === x.class));
  assert.equal(s.provenance.length, 1);
  assert.equal(s.provenance[0].tiny, true);
  assert.equal(s.provenance[0].images, SYNTH_COUNTS.blue + SYNTH_COUNTS.yellow);
  const real = readSynthData(await makeSynthFixture(undefined, '/models/sd15-controlnet'), crops);
  assert.equal(real.provenance[0].tiny, false);
});

test('bad input is a UserError that names the file and line', async () => {
  const dir = await makeCropsFixture();
  const crops = readCropsData(dir);
  const synth = await makeSynthFixture();
  fs.appendFileSync(
    path.join(synth, 'metadata.jsonl'),
    JSON.stringify({ file: 'blue/0.png', class: 'purple', models: 'x' }) + '\n',
  );
  assert.throws(
    () => readSynthData(synth, crops),
    (e: Error) => e instanceof UserError && /metadata\.jsonl:7: class 'purple'/.test(e.message),
  );
  const manifest = path.join(dir, 'manifest.jsonl');
  const lines = fs.readFileSync(manifest, 'utf8').trim().split('\n');
  lines[0] = lines[0].replace('"label":0', '"label":2');
  fs.writeFileSync(manifest, lines.join('\n'));
  assert.throws(
    () => readCropsData(dir),
    (e: Error) => e instanceof UserError && /manifest\.jsonl:1: class 'red' with label 2/.test(e.message),
  );
  fs.rmSync(path.join(dir, 'classes.json'));
  assert.throws(
    () => readCropsData(dir),
    (e: Error) => e instanceof UserError && /classes\.json does not exist/.test(e.message),
  );
});

test('a model folder trained by train-diffusion is named by its own note; other folders have none', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-note-'));
  assert.equal(trainedModelNote(dir), undefined);
  fs.writeFileSync(
    path.join(dir, 'detrlab_diffusion.json'),
    JSON.stringify({ kind: 'tiny-sd', note: 'trained by X; not Y' }),
  );
  assert.equal(trainedModelNote(dir), 'trained by X; not Y');
  fs.writeFileSync(path.join(dir, 'detrlab_diffusion.json'), '{');
  assert.equal(trainedModelNote(dir), undefined, 'an unreadable file names nothing');
});
