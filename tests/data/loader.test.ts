import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeDemo } from '../../lib/coco/demo/make_demo.js';
import { makeSubset } from '../../lib/coco/subset.js';
import { loadDetectionSplit } from '../../lib/data/dataset.js';
import { DetrLoader } from '../../lib/data/loader.js';
import { DEMO_AUGMENT } from '../../lib/data/augment.js';
import { DetrBatch } from '../../lib/data/types.js';
import { CocoDataset } from '../../lib/coco/types.js';

let root: string;
let sub: string;
before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loader-'));
  await makeDemo({ out: path.join(root, 'demo'), imagesPerSplit: 14, seed: 2, quiet: true });
  sub = path.join(root, 'sub');
  await makeSubset({
    cocoRoot: path.join(root, 'demo'),
    outRoot: sub,
    classes: ['person', 'car', 'bus', 'truck', 'traffic light', 'bicycle', 'boat'],
    quiet: true,
  });
});

const collect = async (it: AsyncIterable<DetrBatch>) => {
  const out: DetrBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
};

test('train batches: shapes, masks, normalised boxes, labels; deterministic per seed; resumable', async () => {
  const split = await loadDetectionSplit(sub, 'train');
  const n = split.records.length;
  const loader = new DetrLoader(split, { batchSize: 4, train: true, augment: DEMO_AUGMENT, seed: 7 });
  const batches = await collect(loader.epoch(0));
  assert.equal(batches.length, Math.floor(n / 4));
  for (const b of batches) {
    const [B, H, W] = b.shape;
    assert.equal(B, 4);
    assert.equal(b.pixels.length, B * H * W * 3);
    assert.equal(
      b.mask.reduce((s, v) => s + v, 0),
      b.targets.reduce((s, t) => s + t.size[0] * t.size[1], 0),
    );
    assert.equal(H, Math.max(...b.targets.map((t) => t.size[0])));
    for (const t of b.targets) {
      assert.equal(t.labels.length, t.boxesCxcywh.length);
      for (const l of t.labels) assert.ok(Number.isInteger(l) && l >= 0 && l < 7);
      for (const [cx, cy, w, h] of t.boxesCxcywh)
        assert.ok(
          w > 0 &&
            h > 0 &&
            cx - w / 2 >= -1e-6 &&
            cx + w / 2 <= 1 + 1e-6 &&
            cy - h / 2 >= -1e-6 &&
            cy + h / 2 <= 1 + 1e-6,
        );
    }
  }
  const again = await collect(
    new DetrLoader(split, { batchSize: 4, train: true, augment: DEMO_AUGMENT, seed: 7 }).epoch(0),
  );
  const strip = (bs: DetrBatch[]) => bs.map((b) => ({ ...b, waitMs: 0 }));
  assert.deepEqual(strip(again), strip(batches));
  const resumed = await collect(loader.epoch(0, 1));
  assert.deepEqual(
    resumed.map((b) => b.imageIds),
    batches.slice(1).map((b) => b.imageIds),
  );
  assert.notDeepEqual(
    (await collect(loader.epoch(1))).map((b) => b.imageIds),
    batches.map((b) => b.imageIds),
  );
});

test('val batches: file order, shortest side = valSize, the last partial batch is kept; crowd counted', async () => {
  const split = await loadDetectionSplit(sub, 'val');
  const batches = await collect(new DetrLoader(split, { batchSize: 4, train: false, augment: DEMO_AUGMENT }).epoch(0));
  assert.deepEqual(
    batches.flatMap((b) => b.imageIds),
    split.records.map((r) => r.imageId),
  );
  for (const t of batches.flatMap((b) => b.targets)) assert.equal(Math.min(...t.size), 128);
  const ds = JSON.parse(fs.readFileSync(path.join(sub, 'annotations/instances_val2017.json'), 'utf8')) as CocoDataset;
  assert.equal(split.stats.crowdRemoved, ds.annotations.filter((a) => a.iscrowd).length);
  assert.equal(split.stats.annotations, ds.annotations.length);
});

test('a missing and a corrupt image are skipped, named and counted; degenerate boxes are dropped and counted', async () => {
  const split = await loadDetectionSplit(sub, 'train');
  const [gone, bad] = [split.records[0].file, split.records[1].file];
  const saved = [fs.readFileSync(gone), fs.readFileSync(bad)];
  try {
    fs.rmSync(gone);
    fs.writeFileSync(bad, saved[1].subarray(0, 100));
    const loader = new DetrLoader(split, { batchSize: 3, train: false, augment: DEMO_AUGMENT, warn: false });
    const ids = (await collect(loader.epoch(0))).flatMap((b) => b.imageIds);
    assert.deepEqual(
      ids,
      split.records.slice(2).map((r) => r.imageId),
    );
    assert.deepEqual(
      loader.stats.skipped.map((s) => s.file),
      [gone, bad],
    );
    assert.match(loader.stats.skipped[0].reason, /not found/);
    assert.equal(loader.summary().images_skipped, 2);
  } finally {
    fs.writeFileSync(gone, saved[0]);
    fs.writeFileSync(bad, saved[1]);
  }
  const file = path.join(sub, 'annotations/instances_train2017.json');
  const ds = JSON.parse(fs.readFileSync(file, 'utf8')) as CocoDataset;
  const plain = ds.annotations.filter((a) => !a.iscrowd);
  plain[0].bbox = [5, 5, 0, 10]; // no width
  const im = ds.images.find((i) => i.id === plain[1].image_id)!;
  plain[1].bbox = [im.width + 3, 2, 10, 10]; // entirely right of the image
  fs.writeFileSync(file, JSON.stringify(ds));
  const s2 = await loadDetectionSplit(sub, 'train');
  assert.equal(s2.stats.degenerateDropped, 2);
  assert.equal(
    s2.records.reduce((n, r) => n + r.labels.length, 0),
    plain.length - 2,
  );
});
