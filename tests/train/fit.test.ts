import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { makeDemo } from '../../lib/coco/demo/make_demo.js';
import { makeSubset } from '../../lib/coco/subset.js';
import { train } from '../../lib/train/fit.js';
import { readSafetensors, toFloat32 } from '../../lib/io/safetensors.js';
import { readLog } from '../../lib/train/run_dir.js';
import { eventFiles, readEventFile } from '../../lib/train/tensorboard/index.js';

let subset = '';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-fit-'));
const base = (out: string) => ({ dataRoot: subset, modelName: 'scratch:demo', augment: 'demo', outputDir: path.join(tmp, out), batchSize: 2, workers: 1, backend: 'wasm', valMaxImages: 4, traceSteps: 1, traceStart: 0, epochs: 2, lr: 1e-3, lrBackbone: 1e-4 });

before(async () => {
  await makeDemo({ out: path.join(tmp, 'demo'), imagesPerSplit: 6, quiet: true });
  subset = (await makeSubset({ cocoRoot: path.join(tmp, 'demo'), outRoot: path.join(tmp, 'subset'), classes: ['person', 'car', 'bus'], quiet: true })).outRoot;
});

const weights = (dir: string) => {
  const t = readSafetensors(path.join(dir, 'checkpoints', 'last', 'model.safetensors')).tensors;
  return new Map([...t].map(([k, v]) => [k, toFloat32(v)]));
};

test('resume continues a stopped run and ends with the same weights as an uninterrupted run', { timeout: 300_000 }, async () => {
  const full = await train(base('full'));
  assert.equal(full.epochsDone, 2);
  // The same run stopped after one step of its first epoch, then resumed.
  await train({ ...base('resumed'), maxSteps: 1 });
  const resumed = await train({ ...base('resumed'), resume: true });
  assert.equal(resumed.steps, full.steps);
  const a = weights(path.join(tmp, 'full')), b = weights(path.join(tmp, 'resumed'));
  for (const [k, v] of a) assert.deepEqual(b.get(k), v, `${k} differs`);
  // Logs: one train row per step, the resumed run's rows replace the ones after its checkpoint.
  const log = readLog(path.join(tmp, 'resumed', 'log.jsonl')).filter((r) => r.split === 'train');
  assert.deepEqual(log.map((r) => r.step), Array.from({ length: full.steps }, (_, i) => i + 1));
  // Every artifact of DESIGN.md's run layout exists.
  for (const f of ['config.json', 'plots/loss_curves.png', 'checkpoints/best/model.safetensors', 'checkpoints/best/config.json', 'checkpoints/last/optimizer.safetensors', 'train_summary.json']) {
    assert.ok(fs.existsSync(path.join(tmp, 'resumed', f)), f);
  }
  const tags = new Set(eventFiles(path.join(tmp, 'full', 'tb')).flatMap((f) => readEventFile(f).events.flatMap((e) => (e.summary?.value ?? []).map((v) => v.tag))));
  for (const t of ['train/loss_ce', 'train/loss_bbox', 'train/loss_giou', 'train/loss_total', 'train/lr', 'val/mAP']) assert.ok(tags.has(t), t);
  assert.ok(full.tracePath && JSON.parse(fs.readFileSync(full.tracePath, 'utf8')).traceEvents.length > 10);
});

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
  assert.ok(versions.every((v) => v >= 1), versions.join());
});

test('--backbone-init starts a scratch DETR from a classifier\'s backbone tensors', async () => {
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
  const { model, source } = await loadTrainModel(resolveTrain({ modelName: 'scratch:demo', backboneInit: file }), labels, new Rng(0));
  assert.match(source, /backbone from/);
  const name = 'model.backbone.conv_encoder.model.layer2.0.conv1.weight';
  assert.deepEqual([...model.params.get(name).dataSync()], [...clf.params.get(name).dataSync()]);
  await assert.rejects(loadTrainModel(resolveTrain({ modelName: 'scratch:demo', backboneInit: path.join(tmp, 'nope.safetensors') }), labels, new Rng(0)), /does not exist/);
  model.dispose(); clf.dispose();
});
