/**
 * Rare classes and the crop dataset on a generated subset (fixture_subset.ts): counts exclude crowd and
 * small boxes, the K rarest are chosen by train crops, crops land where the boxes are, files follow the
 * data contract, and reruns resume.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { rareClasses, chooseRare } from '../../lib/crops/rare_classes.js';
import { buildCrops, CropRecord } from '../../lib/crops/crop_dataset.js';
import { clipRegion, squareRegion } from '../../lib/crops/crop_geometry.js';
import { cropGrid, readCropManifest } from '../../lib/crops/crop_viz.js';
import { isUserError } from '../../lib/params/user_error.js';
import { FIXTURE_CATEGORY_IDS, FIXTURE_CLASSES, FIXTURE_TRAIN_CROPS, makeFixtureSubset } from './fixture_subset.js';

process.env.DETRLAB_QUIET = '1';
const rootP = makeFixtureSubset();
after(async () => fs.rmSync(path.dirname(await rootP), { recursive: true, force: true }));

test('square region: side = max(w, h)·(1 + 2·margin) around the box centre; clipping pads the outside', () => {
  assert.deepEqual(squareRegion([10, 20, 40, 20], 0.1), [6, 6, 48]); // centre (30, 30), side 48
  assert.deepEqual(squareRegion([0, 0, 10, 10], 0), [0, 0, 10]);
  assert.deepEqual(clipRegion([-4, 60, 20], 100, 72), {
    extract: { left: 0, top: 60, width: 16, height: 12 },
    pad: { left: 4, top: 0, right: 0, bottom: 8 },
  });
});

test('rare classes: counts skip crowd and small boxes; the k rarest by train crops, ties by label', async () => {
  const { table, rare } = await rareClasses({ dataRoot: await rootP, k: 2 });
  assert.deepEqual(
    table.map((r) => [r.class, r.categoryId, r.trainCrops]),
    FIXTURE_CLASSES.map((c, i) => [c, FIXTURE_CATEGORY_IDS[i], FIXTURE_TRAIN_CROPS[c]]),
  );
  assert.deepEqual(rare, ['star', 'triangle']);
  assert.deepEqual(
    table.filter((r) => r.rare).map((r) => r.class),
    ['triangle', 'star'],
  );
  const tie = [
    { class: 'b', label: 1, categoryId: 2, trainCrops: 1, valCrops: 0 },
    { class: 'a', label: 0, categoryId: 1, trainCrops: 1, valCrops: 0 },
  ];
  assert.deepEqual(chooseRare(tie, 1), ['a']);
  await assert.rejects(
    rareClasses({ dataRoot: await rootP, k: 9 }),
    (e) => isUserError(e) && /only 4 classes/.test((e as Error).message),
  );
  await assert.rejects(
    rareClasses({ dataRoot: path.join(await rootP, 'nope') }),
    (e) => isUserError(e) && /does not exist/.test((e as Error).message),
  );
});

test('crops: one PNG per croppable box, the box colour at the centre, manifest and classes.json per contract', async () => {
  const root = await rootP;
  const out = path.join(root, '..', 'crops');
  const r = await buildCrops({ dataRoot: root, out, size: 32, k: 2 });
  assert.equal(r.written, 13 + 9);
  const man = readCropManifest(out);
  assert.deepEqual(man, r.records);
  const keys: Array<keyof CropRecord> = [
    'file',
    'split',
    'class',
    'label',
    'imageId',
    'annotationId',
    'bboxXywh',
    'source',
  ];
  for (const rec of man) {
    for (const k of keys) assert.ok(rec[k] !== undefined, `${k} in ${rec.file}`);
    assert.equal(rec.file, `${rec.split}/${rec.class}/${rec.annotationId}.png`);
    const { data, info } = await sharp(path.join(out, rec.file)).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [32, 32, 3]);
    const c = (16 * 32 + 16) * 3;
    assert.ok(
      Math.abs(data[c] - data[c + 1]) + Math.abs(data[c + 1] - data[c + 2]) > 60,
      `${rec.file}: centre is a coloured box, not the grey background`,
    );
  }
  const classes = JSON.parse(fs.readFileSync(path.join(out, 'classes.json'), 'utf8'));
  assert.deepEqual(classes.classes, FIXTURE_CLASSES);
  assert.deepEqual(classes.rare, ['star', 'triangle']);
  assert.deepEqual(classes.counts.train, FIXTURE_TRAIN_CROPS);
  assert.deepEqual(classes.counts.val, { circle: 2, square: 2, triangle: 2, star: 3 });
  const edge = man.find((m) => m.bboxXywh[0] === 80)!; // box [80,50,40,30] leaves the 100×72 image
  const px = (await sharp(path.join(out, edge.file)).raw().toBuffer()).subarray((32 * 32 - 1) * 3);
  assert.ok(
    px[0] > 150 && px[1] > 100 && px[2] < 90,
    `outside pixels replicate the image edge (yellow box), got ${Array.from(px)}`,
  );
  const grid = await cropGrid(out, { perClass: 3 });
  assert.ok((await sharp(grid).metadata()).width! > 64 * 3);
});

test('crops resume: only missing files are made again; other geometry into the same folder is refused', async () => {
  const root = await rootP;
  const out = path.join(root, '..', 'crops-resume');
  await buildCrops({ dataRoot: root, out, size: 24 });
  const victim = readCropManifest(out)[3];
  const before = fs.readFileSync(path.join(out, victim.file));
  fs.rmSync(path.join(out, victim.file));
  const again = await buildCrops({ dataRoot: root, out, size: 24 });
  assert.deepEqual([again.written, again.skipped], [1, 21]);
  assert.deepEqual(fs.readFileSync(path.join(out, victim.file)), before);
  await assert.rejects(
    buildCrops({ dataRoot: root, out, size: 48 }),
    (e) => isUserError(e) && /size=24/.test((e as Error).message),
  );
});

test('maxPerClass caps each class and split with a seeded choice', async () => {
  const root = await rootP;
  const a = await buildCrops({
    dataRoot: root,
    out: path.join(root, '..', 'cap-a'),
    size: 16,
    maxPerClass: 2,
    seed: 1,
  });
  const b = await buildCrops({
    dataRoot: root,
    out: path.join(root, '..', 'cap-b'),
    size: 16,
    maxPerClass: 2,
    seed: 1,
  });
  assert.deepEqual(a.classes.counts.train, { circle: 2, square: 2, triangle: 2, star: 1 });
  assert.deepEqual(
    a.records.map((x) => x.annotationId),
    b.records.map((x) => x.annotationId),
  );
});
