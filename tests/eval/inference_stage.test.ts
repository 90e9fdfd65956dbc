import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { initEngine } from '../../lib/engine/backend.js';
import { evaluateCoco } from '../../lib/cocoeval/coco_eval.js';
import { readCocoResults } from '../../lib/cocoeval/results_io.js';
import { readFreshDetections, runEval, ValMetrics } from '../../lib/eval/eval_stage.js';
import { readSplitGroundTruth, resolveCheckpoint, valAugment } from '../../lib/eval/stage_inputs.js';
import { runVisualize } from '../../lib/eval/visualize_stage.js';
import { STAT_NAMES } from '../../lib/cocoeval/summarize.js';
import { UserError } from '../../lib/params/user_error.js';
import { CATEGORY_IDS, makeTinyRun, makeTinySubset, tinyDetr } from './inference_fixture.js';

let root: string, run: string;
const common = () => ({ run, dataRoot: root, workers: 1, backend: 'wasm' as const, quiet: true });

before(async () => {
  await initEngine({ backend: 'wasm', log: null });
  root = await makeTinySubset(5);
  run = makeTinyRun();
});

test(
  'eval writes metrics, detections and tables; the stats are evaluateCoco of the written detections',
  { timeout: 60_000 },
  async () => {
    const r = await runEval({ ...common(), scoreThr: 0 });
    const metrics = JSON.parse(fs.readFileSync(path.join(run, 'metrics', 'val_metrics.json'), 'utf8')) as ValMetrics;
    const dets = readCocoResults(path.join(run, 'metrics', 'detections_val.json'));
    assert.equal(dets.length, 5 * tinyDetr().numQueries, 'score-thr 0 keeps every query');
    assert.ok(dets.every((d) => CATEGORY_IDS.includes(d.category_id)));
    const again = evaluateCoco(readSplitGroundTruth(root, 'val'), dets, { quiet: true });
    assert.deepEqual(metrics.stats, again.stats);
    assert.deepEqual(Object.keys(metrics.statsByName), [...STAT_NAMES]);
    STAT_NAMES.forEach((n, i) => assert.equal(metrics.statsByName[n], again.stats[i]));
    for (const c of again.perCategory) assert.equal(metrics.perCategory[String(c.categoryId)].ap, c.stats.map);
    assert.equal(metrics.inference.images, 5);
    assert.equal(metrics.source.valSize, 48, "the run's config.json sizes");
    assert.equal(metrics.stageParams.scoreThr, 0);
    const md = fs.readFileSync(r.files.tables, 'utf8');
    for (const h of [
      '## COCO mAP',
      '## AP by object size',
      '## AR by detections per image',
      '## AR by object size',
      '## Per-class AP',
      '| kite |',
    ])
      assert.ok(md.includes(h), h);
    assert.ok(md.includes(metrics.summary[0]));
    assert.equal(r.tables.headline[0]['mAP@[.5:.95]'], Math.round(metrics.statsByName.map * 1000) / 1000);
  },
);

test(
  'a score threshold drops exactly the detections at or below it, and mAP cannot rise',
  { timeout: 60_000 },
  async () => {
    const all = readCocoResults(path.join(run, 'metrics', 'detections_val.json'));
    const mapAll = (JSON.parse(fs.readFileSync(path.join(run, 'metrics', 'val_metrics.json'), 'utf8')) as ValMetrics)
      .statsByName.map;
    const scores = all.map((d) => d.score).sort((a, b) => a - b);
    const thr = scores[Math.floor(scores.length / 2)];
    const r = await runEval({ ...common(), scoreThr: thr });
    const kept = readCocoResults(path.join(run, 'metrics', 'detections_val.json'));
    assert.equal(kept.length, all.filter((d) => d.score > thr).length);
    assert.ok(r.metrics.statsByName.map <= mapAll + 1e-12);
    assert.ok(r.metrics.warnings.some((w) => w.includes('--score-thr')));
    await runEval({ ...common(), scoreThr: 0 }); // leave the unthresholded files for the next tests
  },
);

test('detections are reused only while they are those of the checkpoint', () => {
  const aug = valAugment(run, { valSize: 0, maxSize: 0 });
  const need = {
    checkpoint: resolveCheckpoint(run, 'best').fingerprint,
    dataRoot: path.resolve(root),
    split: 'val',
    scoreThr: 0.3,
    maxImages: 3,
    valSize: aug.valSize,
    maxSize: aug.maxSize,
  };
  assert.equal(readFreshDetections(run, need).results?.length, 5 * tinyDetr().numQueries);
  assert.match(readFreshDetections(run, { ...need, valSize: 64 }).reason, /image size/);
  const weights = path.join(run, 'checkpoints', 'best', 'model.safetensors');
  const t = new Date(Date.now() + 5000);
  fs.utimesSync(weights, t, t);
  assert.match(
    readFreshDetections(run, { ...need, checkpoint: resolveCheckpoint(run, 'best').fingerprint }).reason,
    /another checkpoint/,
  );
});

test("val resize: flags, else the run config's resolved augment object, else its preset and sizes, else DETR's", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-run-'));
  const sizes = (p = { valSize: 0, maxSize: 0 }) => {
    const a = valAugment(dir, p);
    return [a.valSize, a.maxSize];
  };
  assert.deepEqual(sizes(), [800, 1333], 'no config.json: DETR');
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ params: { augment: 'demo', valSize: 0, maxSize: 0 } }),
  );
  assert.deepEqual(sizes(), [128, 213], 'preset name');
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ params: { augment: 'detr', valSize: 0 }, augment: { valSize: 96, maxSize: 160, scales: [96] } }),
  );
  assert.deepEqual(sizes(), [96, 160], 'resolved augment object wins over the preset');
  assert.deepEqual(sizes({ valSize: 64, maxSize: 0 }), [64, 160], 'flags win');
});

test('user errors: missing checkpoint, classes that differ from the label map', async () => {
  await assert.rejects(
    runEval({ ...common(), checkpoint: 'last' }),
    (e: Error) => e instanceof UserError && /no checkpoints\/last.*available: best/.test(e.message),
  );
  const other = makeTinyRun({ numClasses: 2 });
  await assert.rejects(
    runEval({ ...common(), run: other }),
    (e: Error) => e instanceof UserError && /2 classes but the label map has 3/.test(e.message),
  );
  const renamed = makeTinyRun({ categoryIds: [5, 9, 3] });
  await assert.rejects(
    runEval({ ...common(), run: renamed }),
    (e: Error) => e instanceof UserError && /category ids/.test(e.message),
  );
});

test('visualize: one two-panel PNG per sampled image and a contact sheet', { timeout: 60_000 }, async () => {
  const r = await runVisualize({ ...common(), numImages: 3, scoreThr: 0.3, maxSide: 120 });
  assert.equal(r.images.length, 3);
  const gt = readSplitGroundTruth(root, 'val');
  for (const im of r.images) {
    const m = await sharp(im.file).metadata(),
      info = gt.images.find((x) => x.id === im.imageId)!;
    const s = 120 / Math.max(info.width, info.height);
    assert.equal(m.width, 2 * Math.round(info.width * s) + 8, 'two panels, longer side 120 px, an 8-px gap');
    assert.equal(m.height, Math.round(info.height * s) + 22, 'panel height + a 22-px caption strip');
  }
  for (const im of r.images) assert.equal(im.gt, gt.annotations.filter((a) => a.image_id === im.imageId).length);
  assert.ok(fs.existsSync(r.contactSheet));
  const again = await runVisualize({ ...common(), numImages: 2, scoreThr: 0.3, maxSide: 120, seed: 1 });
  const pngs = fs.readdirSync(path.join(run, 'viz')).filter((f) => /^val_\d+\.png$/.test(f));
  assert.deepEqual(
    pngs.sort(),
    again.images.map((im) => path.basename(im.file)).sort(),
    'an earlier sample is cleared',
  );
});
