import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { makeDemo } from '../../lib/coco/demo/make_demo.js';
import { DEMO_CLASSES } from '../../lib/coco/demo/classes.js';
import { placedBox, placedSvg, quantizePlacement } from '../../lib/coco/demo/shapes.js';
import { Rng } from '../../lib/engine/rng.js';
import { CocoDataset } from '../../lib/coco/types.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'demo-'));
const walk = (d: string): string[] =>
  fs
    .readdirSync(d, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)).map((f) => path.join(e.name, f)) : [e.name]))
    .sort();

test('same seed → byte-identical dataset; another seed → different; re-run is skipped', async () => {
  const dir = tmp();
  const a = await makeDemo({ out: path.join(dir, 'a'), imagesPerSplit: 6, seed: 5, quiet: true, concurrency: 3 });
  await makeDemo({ out: path.join(dir, 'b'), imagesPerSplit: 6, seed: 5, quiet: true, concurrency: 1 });
  const files = walk(path.join(dir, 'a'));
  assert.deepEqual(files, walk(path.join(dir, 'b')));
  assert.equal(files.filter((f) => f.endsWith('.jpg')).length, 12);
  for (const f of files)
    assert.ok(fs.readFileSync(path.join(dir, 'a', f)).equals(fs.readFileSync(path.join(dir, 'b', f))), f);
  await makeDemo({ out: path.join(dir, 'c'), imagesPerSplit: 6, seed: 6, quiet: true });
  const ann = (r: string) => fs.readFileSync(path.join(dir, r, 'annotations/instances_train2017.json'), 'utf8');
  assert.notEqual(ann('a'), ann('c'));
  assert.equal(a.manifest.totals.train.images, 6);
  assert.equal((await makeDemo({ out: path.join(dir, 'a'), imagesPerSplit: 6, seed: 5, quiet: true })).skipped, true);
});

test('annotations are valid COCO: boxes inside the image, ids from 1, area = w·h, crowd as RLE, files decode', async () => {
  const dir = tmp();
  await makeDemo({ out: dir, imagesPerSplit: 40, seed: 1, quiet: true });
  const ids = new Set(DEMO_CLASSES.map((c) => c.categoryId));
  let crowd = 0;
  for (const split of ['train', 'val']) {
    const ds = JSON.parse(
      fs.readFileSync(path.join(dir, `annotations/instances_${split}2017.json`), 'utf8'),
    ) as CocoDataset;
    assert.deepEqual(
      ds.categories.map((c) => c.id),
      [...ids].sort((x, y) => x - y),
    );
    assert.deepEqual(
      ds.annotations.map((a) => a.id),
      ds.annotations.map((_, i) => i + 1),
    );
    const byId = new Map(ds.images.map((im) => [im.id, im]));
    for (const a of ds.annotations) {
      const im = byId.get(a.image_id)!;
      const [x, y, w, h] = a.bbox;
      assert.ok(
        x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= im.width + 1e-9 && y + h <= im.height + 1e-9,
        JSON.stringify(a),
      );
      assert.ok(ids.has(a.category_id));
      assert.ok(Math.abs(a.area - w * h) < 0.01);
      if (a.iscrowd) {
        crowd++;
        const rle = a.segmentation as { counts: number[]; size: [number, number] };
        assert.equal(
          rle.counts.reduce((s, n) => s + n, 0),
          im.width * im.height,
        );
      }
    }
    for (const im of ds.images.slice(0, 5)) {
      const meta = await sharp(path.join(dir, `images/${split}2017`, im.file_name)).metadata();
      assert.deepEqual([meta.width, meta.height, meta.format], [im.width, im.height, 'jpeg']);
    }
  }
  assert.ok(crowd > 0, 'some crowd regions');
});

/** Bounding box of the pixels that differ from black. */
async function inkBox(svg: string): Promise<[number, number, number, number]> {
  const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const i = 3 * (y * info.width + x);
      if (Math.max(data[i], data[i + 1], data[i + 2]) > 12) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x + 1);
        y1 = Math.max(y1, y + 1);
      }
    }
  }
  return [x0, y0, x1, y1];
}

test('every class figure is drawn exactly inside its computed box, and touches each side (tight to ~1 px)', async () => {
  for (const cls of DEMO_CLASSES) {
    for (const mirror of [false, true]) {
      const rng = new Rng(cls.categoryId * 2 + Number(mirror));
      const f = cls.draw(rng);
      const s = 60 / Math.max(f.box[2] - f.box[0], f.box[3] - f.box[1]);
      const p = quantizePlacement({ x: 10.37, y: 12.61, sx: s * 1.1, sy: s / 1.1, mirror });
      const b = placedBox(f, p);
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><rect width="96" height="96" fill="#000"/>${placedSvg(f, p)}</svg>`;
      const ink = await inkBox(svg);
      const where = `${cls.name}${mirror ? ' (mirrored)' : ''}: box ${b.map((v) => v.toFixed(2))} ink ${ink}`;
      assert.ok(
        ink[0] >= Math.floor(b[0]) &&
          ink[1] >= Math.floor(b[1]) &&
          ink[2] <= Math.ceil(b[2]) &&
          ink[3] <= Math.ceil(b[3]),
        `ink outside the box: ${where}`,
      );
      assert.ok(
        ink[0] - b[0] <= 1.5 && ink[1] - b[1] <= 1.5 && b[2] - ink[2] <= 1.5 && b[3] - ink[3] <= 1.5,
        `box not tight: ${where}`,
      );
    }
  }
});
