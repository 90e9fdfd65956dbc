import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { assertNested, Slice } from './trace_nesting.js';
import { makeDemo } from '../../lib/coco/demo/make_demo.js';
import { makeSubset } from '../../lib/coco/subset.js';
import { train } from '../../lib/train/fit.js';
import { readSafetensors, toFloat32 } from '../../lib/io/safetensors.js';
import { readLog } from '../../lib/io/run_dir.js';
import { eventFiles, readEventFile } from '../../lib/train/tensorboard/index.js';
import { readRunRecord } from '../../lib/io/run_record.js';

let subset = '';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-fit-'));
const base = (out: string) => ({
  dataRoot: subset,
  modelName: 'scratch:demo',
  augment: 'demo',
  outputDir: path.join(tmp, out),
  batchSize: 2,
  workers: 1,
  backend: 'wasm',
  valMaxImages: 4,
  traceSteps: 1,
  traceStart: 0,
  epochs: 2,
  lr: 1e-3,
  lrBackbone: 1e-4,
});

before(async () => {
  await makeDemo({ out: path.join(tmp, 'demo'), imagesPerSplit: 6, quiet: true });
  subset = (
    await makeSubset({
      cocoRoot: path.join(tmp, 'demo'),
      outRoot: path.join(tmp, 'subset'),
      classes: ['person', 'car', 'bus'],
      quiet: true,
    })
  ).outRoot;
});

const findTrace = (run: string): string => {
  const prof = path.join(run, 'tb', 'plugins', 'profile');
  const stamp = fs.readdirSync(prof)[0];
  return path.join(prof, stamp, fs.readdirSync(path.join(prof, stamp))[0]);
};

const weights = (dir: string) => {
  const t = readSafetensors(path.join(dir, 'checkpoints', 'last', 'model.safetensors')).tensors;
  return new Map([...t].map(([k, v]) => [k, toFloat32(v)]));
};

test(
  'resume continues a stopped run and ends with the same weights as an uninterrupted run',
  { timeout: 300_000 },
  async () => {
    const full = await train(base('full'));
    assert.equal(full.epochsDone, 2);
    // The same run stopped after one step of its first epoch, then resumed.
    await train({ ...base('resumed'), maxSteps: 1 });
    const resumed = await train({ ...base('resumed'), resume: true });
    assert.equal(resumed.steps, full.steps);
    const a = weights(path.join(tmp, 'full')),
      b = weights(path.join(tmp, 'resumed'));
    for (const [k, v] of a) assert.deepEqual(b.get(k), v, `${k} differs`);
    // Logs: one train row per step, the resumed run's rows replace the ones after its checkpoint.
    const log = readLog(path.join(tmp, 'resumed', 'log.jsonl')).filter((r) => r.split === 'train');
    assert.deepEqual(
      log.map((r) => r.step),
      Array.from({ length: full.steps }, (_, i) => i + 1),
    );
    // Every artifact of the run layout (docs/guide.md "Artifacts") exists.
    for (const f of [
      'config.json',
      'plots/loss_curves.png',
      'checkpoints/best/model.safetensors',
      'checkpoints/best/config.json',
      'checkpoints/last/optimizer.safetensors',
      'train_summary.json',
      'run_record.json',
    ]) {
      assert.ok(fs.existsSync(path.join(tmp, 'resumed', f)), f);
    }
    // The typed record later stages read: the run's data root, resolved augmentation and classes.
    const record = readRunRecord(path.join(tmp, 'resumed'));
    const cfg = JSON.parse(fs.readFileSync(path.join(tmp, 'resumed', 'config.json'), 'utf8'));
    assert.equal(record?.dataRoot, cfg.params.dataRoot);
    assert.deepEqual(record?.augment, cfg.augment);
    assert.deepEqual(record?.classes, cfg.labels.classes);
    const tags = new Set(
      eventFiles(path.join(tmp, 'full', 'tb')).flatMap((f) =>
        readEventFile(f).events.flatMap((e) => (e.summary?.value ?? []).map((v) => v.tag)),
      ),
    );
    for (const t of [
      'train/loss_ce',
      'train/loss_bbox',
      'train/loss_giou',
      'train/loss_total',
      'train/lr',
      'train/lr_backbone',
      'train/grad_norm',
      'val/mAP',
      'val/loss_ce',
      'val/loss_bbox',
      'val/loss_giou',
      'val/loss_total',
    ])
      assert.ok(tags.has(t), t);
    // validation losses in log.jsonl, same field names as the train rows, and the total is the weighted sum
    for (const r of readLog(path.join(tmp, 'full', 'log.jsonl')).filter((x) => x.split === 'val')) {
      for (const k of ['loss_ce', 'loss_bbox', 'loss_giou', 'loss_total']) assert.ok(Number.isFinite(r[k]), `val ${k}`);
      const weighted = Object.entries(r)
        .filter(([k]) => /^loss_(ce|bbox|giou)(_\d+)?$/.test(k))
        .reduce(
          (a, [k, v]) => a + (k.startsWith('loss_ce') ? 1 : k.startsWith('loss_bbox') ? 5 : 2) * (v as number),
          0,
        );
      assert.ok(
        Math.abs(weighted - (r.loss_total as number)) < 1e-4 * Math.max(1, weighted),
        `${weighted} vs ${r.loss_total}`,
      );
    }
    assert.ok(full.tracePath && JSON.parse(fs.readFileSync(full.tracePath, 'utf8')).traceEvents.length > 10);
  },
);

test('--tb-images: each evaluation logs the first N val images as PNG image summaries with GT and predicted boxes', async () => {
  const events = eventFiles(path.join(tmp, 'full', 'tb')).flatMap((f) => readEventFile(f).events);
  const images = events.flatMap((e) =>
    (e.summary?.value ?? []).filter((v) => v.image).map((v) => ({ step: e.step, ...v })),
  );
  const valIds = JSON.parse(
    fs.readFileSync(path.join(subset, 'annotations', 'instances_val2017.json'), 'utf8'),
  ).images.map((im: { id: number }) => im.id);
  // default N = 4, two evaluations (one per epoch)
  assert.equal(images.length, 8);
  assert.deepEqual(
    [...new Set(images.map((i) => i.tag))].sort(),
    valIds
      .slice(0, 4)
      .map((id: number) => `val_images/${id}`)
      .sort(),
  );
  for (const im of images) {
    const png = Buffer.from(im.image!.encoded_image_string);
    assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'PNG signature');
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [im.image!.width, im.image!.height]);
    const colours = new Set<number>();
    for (let i = 0; i < data.length; i += info.channels)
      colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    assert.ok(colours.size > 50, 'a real picture, not a blank');
  }
});

test(
  'the profiler trace of a real run nests properly, and a run shorter than --trace-start still records its steps',
  { timeout: 120_000 },
  async () => {
    const full = JSON.parse(fs.readFileSync(findTrace(path.join(tmp, 'full')), 'utf8'));
    assertNested(full.traceEvents);
    const short = await train({ ...base('short'), epochs: 1, maxSteps: 2, traceStart: 2, traceSteps: 5 });
    const events = JSON.parse(fs.readFileSync(short.tracePath!, 'utf8')).traceEvents as Slice[];
    assertNested(events);
    assert.deepEqual(
      events.filter((e) => e.ph === 'X' && e.name.startsWith('step ')).map((e) => e.name),
      ['step 1', 'step 2'],
    );
    for (const n of ['gradients', 'forward', 'matching + loss', 'backward', 'clip + AdamW', 'data wait'])
      assert.ok(
        events.some((e) => e.name === n),
        n,
      );
  },
);

test('an existing run is not overwritten by accident', async () => {
  await assert.rejects(train({ ...base('full'), epochs: 1 }), /already holds a run; use --resume/);
});

test('a kill at any moment during checkpoint writes leaves a loadable checkpoint', { timeout: 180_000 }, async () => {
  // A child rewrites checkpoints/last in a loop, every weight of version v equal to v, printing each
  // version it finished; once the first is on disk we SIGKILL it after a staggered delay (landing at
  // various points of a write), then load what is there: a whole checkpoint of one version.
  const script = path.join(__dirname, 'fixtures', 'checkpoint_writer.js');
  const versions: number[] = [];
  for (const delayMs of [0, 7, 19, 37, 61, 97, 150]) {
    const dir = path.join(tmp, `kill-${delayMs}`);
    const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, delayMs));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const load = spawnSync(process.execPath, [script, dir, '--check'], { encoding: 'utf8' });
    assert.equal(load.status, 0, load.stderr + load.stdout);
    versions.push(Number(/^ok version (\d+)/.exec(load.stdout)?.[1]));
  }
  assert.ok(
    versions.every((v) => v >= 1),
    versions.join(),
  );
});

test("--backbone-init starts a scratch DETR from a classifier's backbone tensors", async () => {
  const { initEngine } = await import('../../lib/engine/backend.js');
  const { Rng } = await import('../../lib/engine/rng.js');
  const { CropClassifier } = await import('../../lib/classify/classifier_model.js');
  const { resolveDetr } = await import('../../lib/detr/config.js');
  const { checkpointTensors } = await import('../../lib/detr/weights.js');
  const { writeSafetensors } = await import('../../lib/io/safetensors.js');
  const { loadTrainModel } = await import('../../lib/train/setup.js');
  const { resolveTrain } = await import('../../lib/train/config.js');
  await initEngine({ backend: 'cpu', log: null });
  const clf = CropClassifier.create({ backbone: resolveDetr({}, 'demo').backbone, numClasses: 5 }, new Rng(3));
  const file = path.join(tmp, 'clf.safetensors');
  writeSafetensors(file, checkpointTensors(clf.params, 'F32'));
  const labels = { classes: ['a', 'b'], categoryIds: [1, 2] };
  const { model, source } = await loadTrainModel(
    resolveTrain({ modelName: 'scratch:demo', backboneInit: file }),
    labels,
    new Rng(0),
  );
  assert.match(source, /backbone from/);
  const name = 'model.backbone.conv_encoder.model.layer2.0.conv1.weight';
  assert.deepEqual([...model.params.get(name).dataSync()], [...clf.params.get(name).dataSync()]);
  await assert.rejects(
    loadTrainModel(
      resolveTrain({ modelName: 'scratch:demo', backboneInit: path.join(tmp, 'nope.safetensors') }),
      labels,
      new Rng(0),
    ),
    /does not exist/,
  );
  model.dispose();
  clf.dispose();
});
