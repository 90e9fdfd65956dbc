/**
 * The ablation on generated fixtures: what the loader feeds the two runs, the report read back from the
 * files, and the worker-thread path against the in-process one.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/backend.js';
import { resolveAblationParams, AblationParams } from '../../lib/classify/classifier_params.js';
import { ablationRunRefs, judgeDir, planAblation } from '../../lib/classify/ablation_plan.js';
import { runAblation } from '../../lib/classify/ablation.js';
import { readAblation, writeAblationReport } from '../../lib/classify/ablation_report.js';
import { ABLATION_COLUMNS, parseMarkdownTable, RARE_COLUMNS } from '../../lib/classify/ablation_tables.js';
import { RunMetrics, trainRun } from '../../lib/classify/train_run.js';
import type { PixelBatch } from '../../lib/classify/image_cache.js';
import {
  makeCropsFixture,
  makeSynthFixture,
  saveTinyDetr,
  SYNTH_COUNTS,
  TRAIN_COUNTS,
  CLASSES,
  tmpDir,
} from './fixtures.js';

let p: AblationParams;
let tensorsLeaked = NaN;
/** Per run, per epoch: the real samples the model was fed (key + pixels) and how many synthetic ones. */
const fed: Record<string, Array<{ real: Array<{ key: string; pixels: number[] }>; synth: string[] }>> = {};

before(async () => {
  process.env.DETRLAB_QUIET = '1';
  await initEngine({ backend: 'wasm', log: null });
  const { model, weights } = saveTinyDetr();
  model.dispose();
  p = resolveAblationParams({
    crops: await makeCropsFixture(),
    synth: await makeSynthFixture(),
    outputDir: path.join(tmpDir('abl'), 'ablation'),
    backboneWeights: weights,
    epochs: 2,
    batchSize: 4,
    imageSize: 24,
    workers: 1,
    backend: 'wasm',
    gridPerClass: 2,
  });
  const tensorsBefore = tf.memory().numTensors;
  for (const spec of planAblation(p)) {
    fed[spec.name] = [];
    const onBatch = (b: PixelBatch, epoch: number) => {
      fed[spec.name][epoch] ??= { real: [], synth: [] };
      const per = b.size * b.size * 3;
      b.samples.forEach((s, i) => {
        if (s.source === 'real')
          fed[spec.name][epoch].real.push({
            key: s.key,
            pixels: Array.from(b.pixels.subarray(i * per, (i + 1) * per)),
          });
        else fed[spec.name][epoch].synth.push(s.key);
      });
    };
    await trainRun(spec, { onBatch });
  }
  tensorsLeaked = tf.memory().numTensors - tensorsBefore;
});

test('a whole run (model, optimizer, every step and evaluation) leaves no tensor behind', () => {
  assert.equal(tensorsLeaked, 0);
});

test('both runs are fed the same real crops, pixel for pixel, in the same order; synth only in real_synth', () => {
  const nReal = TRAIN_COUNTS.reduce((a, b) => a + b, 0);
  const nSynth = SYNTH_COUNTS.blue + SYNTH_COUNTS.yellow; // red is not rare: never fed
  for (let epoch = 0; epoch < p.epochs; epoch++) {
    const a = fed.real[epoch],
      b = fed.real_synth[epoch];
    assert.equal(a.real.length, nReal);
    assert.equal(new Set(a.real.map((x) => x.key)).size, nReal); // each real crop once per epoch
    assert.deepEqual(
      b.real.map((x) => x.key),
      a.real.map((x) => x.key),
    );
    assert.deepEqual(
      b.real.map((x) => x.pixels),
      a.real.map((x) => x.pixels),
    ); // same augmentation too
    assert.equal(a.synth.length, 0);
    assert.equal(b.synth.length, nSynth);
    assert.ok(
      b.synth.every((k) => /^synth:(blue|yellow)\//.test(k)),
      b.synth.join(),
    );
  }
  assert.notDeepEqual(
    fed.real[0].real.map((x) => x.key),
    fed.real[1].real.map((x) => x.key),
  ); // reshuffled per epoch
});

test('Δ and the filled tables come from the run files', async () => {
  const j = await writeAblationReport(p, ablationRunRefs(p.outputDir, p.seeds));
  const m = (name: string) =>
    JSON.parse(fs.readFileSync(path.join(p.outputDir, name, 'metrics.json'), 'utf8')) as RunMetrics;
  const real = m('real').best.accuracy,
    rs = m('real_synth').best.accuracy;
  const back = readAblation(p.outputDir);
  assert.equal(back.real.best_val_acc, real);
  assert.equal(back.real_synth.best_val_acc, rs);
  assert.equal(back.delta, rs - real);
  assert.equal(back.real_data_identical, true);
  assert.deepEqual(j, back);
  const md = fs.readFileSync(path.join(p.outputDir, 'ablation.md'), 'utf8');
  assert.deepEqual(parseMarkdownTable(md, ABLATION_COLUMNS), [
    { эксперимент: 'real', synth_used: 'no', best_val_acc: real.toFixed(4) },
    {
      эксперимент: 'real + synth',
      synth_used: `yes (${SYNTH_COUNTS.blue + SYNTH_COUNTS.yellow} images)`,
      best_val_acc: rs.toFixed(4),
    },
    { эксперимент: 'Δ', synth_used: '', best_val_acc: (rs - real >= 0 ? '+' : '') + (rs - real).toFixed(4) },
  ]);
  assert.deepEqual(parseMarkdownTable(md, RARE_COLUMNS), [
    {
      class: 'blue',
      'train crops (real)': String(TRAIN_COUNTS[CLASSES.indexOf('blue')]),
      'synth images': String(SYNTH_COUNTS.blue),
    },
    {
      class: 'yellow',
      'train crops (real)': String(TRAIN_COUNTS[CLASSES.indexOf('yellow')]),
      'synth images': String(SYNTH_COUNTS.yellow),
    },
  ]);
  assert.match(md, /tiny random-weight TEST models/);
  for (const f of [
    'per_class_accuracy.png',
    'confusion_real.png',
    'confusion_real_synth.png',
    'training_curves.png',
    'examples.png',
  ]) {
    assert.deepEqual([...fs.readFileSync(path.join(p.outputDir, f)).subarray(1, 4)], [0x50, 0x4e, 0x47], f); // 'PNG'
  }
});

test('the worker-thread ablation writes the same runs as the in-process one', async () => {
  const out = path.join(tmpDir('abl-workers'), 'ablation');
  const j = await runAblation({ ...p, outputDir: out, workers: 2 });
  for (const name of ['real', 'real_synth']) {
    const a = JSON.parse(fs.readFileSync(path.join(p.outputDir, name, 'metrics.json'), 'utf8')) as RunMetrics;
    const b = JSON.parse(fs.readFileSync(path.join(out, name, 'metrics.json'), 'utf8')) as RunMetrics;
    assert.deepEqual(b.epochs, a.epochs, name);
    assert.deepEqual(b.best, a.best, name);
  }
  assert.equal(j.delta, readAblation(p.outputDir).delta);
});

test('an output folder holding foreign files is refused, not wiped', async () => {
  const out = path.join(tmpDir('abl-foreign'), 'ablation');
  fs.mkdirSync(path.join(out, 'real'), { recursive: true });
  fs.writeFileSync(path.join(out, 'real', 'notes.txt'), 'mine');
  await assert.rejects(
    runAblation({ ...p, outputDir: out }),
    /holds files an ablation run does not write \(notes\.txt\)/,
  );
  assert.ok(fs.existsSync(path.join(out, 'real', 'notes.txt')));
});

test('the judge of the synthetic images: its own run with every real crop under --rare-per-class or --max-per-class, else the first real run', () => {
  const cut = planAblation({ ...p, rarePerClass: 3, seeds: [4, 5] });
  assert.deepEqual(
    cut.map((s) => s.name),
    ['real', 'real_synth', 'real', 'real_synth', 'judge'],
  );
  const judge = cut[4];
  assert.equal(judge.dir, judgeDir({ ...p, rarePerClass: 3, seeds: [4, 5] }));
  assert.equal(judge.params.rarePerClass, 0, 'the judge sees every real rare crop');
  assert.equal(judge.params.maxPerClass, 0, 'and every real crop of the other classes');
  assert.equal(judge.params.seed, 4);
  assert.equal(judge.synth, undefined, 'the judge never sees synthetic images');
  assert.deepEqual(
    cut.map((s) => !!s.saveWeights),
    [false, false, false, false, true],
  );
  assert.deepEqual(
    cut.slice(0, 4).map((s) => s.params.rarePerClass),
    [3, 3, 3, 3],
  );
  const all = planAblation({ ...p, rarePerClass: 0, seeds: [4, 5] });
  assert.deepEqual(
    all.map((s) => s.name),
    ['real', 'real_synth', 'real', 'real_synth'],
  );
  assert.deepEqual(
    all.map((s) => !!s.saveWeights),
    [true, false, false, false],
  );
  assert.equal(judgeDir({ ...p, rarePerClass: 0, seeds: [4, 5] }), all[0].dir);
  const capped = planAblation({ ...p, rarePerClass: 0, maxPerClass: 2, seeds: [4] });
  assert.deepEqual(
    capped.map((s) => s.name),
    ['real', 'real_synth', 'judge'],
    'a per-class cap also gets its own judge',
  );
  assert.deepEqual([capped[2].params.maxPerClass, capped[2].params.rarePerClass], [0, 0]);
});
