import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeSubset } from '../../lib/coco/subset.js';
import { writeSyntheticCoco, boxRle } from '../fixtures/synthetic_coco.js';
import { CocoDataset } from '../../lib/coco/types.js';
import { LabelMap, SubsetManifest } from '../../lib/coco/subset_types.js';

function makeRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'subset-'));
  writeSyntheticCoco(path.join(root, 'annotations/instances_train2017.json'), {
    images: 400,
    seed: 1,
    crowdRate: 0.05,
  });
  writeSyntheticCoco(path.join(root, 'annotations/instances_val2017.json'), {
    images: 80,
    seed: 2,
    firstImageId: 100_000,
    crowdRate: 0.05,
  });
  fs.mkdirSync(path.join(root, 'images/train2017'), { recursive: true });
  return root;
}

const CLASSES = ['train', 'person', 'fire hydrant'];

/** Counts by a different route: the whole file through JSON.parse, plain loops. */
function independentCounts(src: CocoDataset, names: string[]) {
  const out: Record<string, { images: number; boxes: number; crowd: number }> = {};
  for (const n of names) {
    const id = src.categories.find((c) => c.name === n)!.id;
    const anns = src.annotations.filter((a) => a.category_id === id);
    out[n] = {
      images: new Set(anns.map((a) => a.image_id)).size,
      boxes: anns.filter((a) => !a.iscrowd).length,
      crowd: anns.filter((a) => a.iscrowd).length,
    };
  }
  return out;
}

test('subset: counts match an independent count; COCO structure, renumbered ids, original category ids', async () => {
  const root = makeRoot();
  const out = path.join(root, 'sub');
  const s = await makeSubset({ cocoRoot: root, outRoot: out, classes: CLASSES, quiet: true });
  const lm = JSON.parse(fs.readFileSync(path.join(out, 'label_map.json'), 'utf8')) as LabelMap;
  assert.deepEqual(lm, { classes: ['person', 'train', 'fire hydrant'], categoryIds: [1, 7, 11] });
  const m = JSON.parse(fs.readFileSync(path.join(out, 'subset.json'), 'utf8')) as SubsetManifest;
  for (const split of ['train', 'val']) {
    const src = JSON.parse(
      fs.readFileSync(path.join(root, `annotations/instances_${split}2017.json`), 'utf8'),
    ) as CocoDataset;
    const sub = JSON.parse(
      fs.readFileSync(path.join(out, `annotations/instances_${split}2017.json`), 'utf8'),
    ) as CocoDataset;
    assert.deepEqual(m.counts[split], independentCounts(src, lm.classes));
    const keep = src.annotations.filter((a) => [1, 7, 11].includes(a.category_id));
    assert.deepEqual(
      sub.annotations,
      keep.map((a, i) => ({ ...a, id: i + 1 })),
      'same records in order, ids 1..n',
    );
    const imageIds = new Set(keep.map((a) => a.image_id));
    assert.deepEqual(
      sub.images,
      src.images.filter((im) => imageIds.has(im.id)),
    );
    assert.deepEqual(
      sub.categories,
      src.categories.filter((c) => [1, 7, 11].includes(c.id)),
    );
    assert.ok(
      sub.annotations.some((a) => a.iscrowd === 1),
      'crowd kept',
    );
    assert.deepEqual(m.totals[split], { images: sub.images.length, annotations: sub.annotations.length });
  }
  assert.equal(path.resolve(out, m.imageDirs.train), path.resolve(root, 'images/train2017'));
  assert.equal(s.skipped, false);
  assert.equal((await makeSubset({ cocoRoot: root, outRoot: out, classes: CLASSES, quiet: true })).skipped, true);
});

test('subset: the stream-json engine writes byte-identical files', async () => {
  const root = makeRoot();
  await makeSubset({
    cocoRoot: root,
    outRoot: path.join(root, 'a'),
    classes: ['car', 'bus'],
    splits: ['val'],
    quiet: true,
  });
  await makeSubset({
    cocoRoot: root,
    outRoot: path.join(root, 'b'),
    classes: ['car', 'bus'],
    splits: ['val'],
    jsonEngine: 'stream-json',
    quiet: true,
  });
  const f = 'annotations/instances_val2017.json';
  assert.ok(fs.readFileSync(path.join(root, 'a', f)).equals(fs.readFileSync(path.join(root, 'b', f))));
});

test('subset: an unknown class is a UserError listing the valid names; missing files say what to run', async () => {
  const root = makeRoot();
  await assert.rejects(
    makeSubset({ cocoRoot: root, outRoot: path.join(root, 'x'), classes: ['person', 'unicorn'], quiet: true }),
    (e: Error) =>
      e.name === 'UserError' &&
      /'unicorn'/.test(e.message) &&
      /Valid names: person, bicycle, car/.test(e.message) &&
      /toothbrush/.test(e.message),
  );
  assert.equal(fs.existsSync(path.join(root, 'x')), false);
  await assert.rejects(makeSubset({ cocoRoot: path.join(root, 'nope'), quiet: true }), /run prepare-coco or make-demo/);
});

test('boxRle covers exactly the box, column-major', () => {
  const { counts, size } = boxRle(1, 2, 3, 4, 4, 5); // w=4, h=5; columns 1..2, rows 2..3
  assert.deepEqual(size, [5, 4]);
  const mask: number[] = [];
  counts.forEach((n, i) => {
    for (let k = 0; k < n; k++) mask.push(i % 2);
  });
  assert.equal(mask.length, 20);
  for (let x = 0; x < 4; x++)
    for (let y = 0; y < 5; y++) assert.equal(mask[x * 5 + y], x >= 1 && x < 3 && y >= 2 && y < 4 ? 1 : 0);
});
