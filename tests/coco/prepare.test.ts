import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { prepareCoco, ArchiveSpec, PrepareDeps } from '../../lib/coco/prepare.js';
import { writeSyntheticCoco } from '../fixtures/synthetic_coco.js';
import { startFixtureServer, FixtureServer } from './fixture_server.js';
import { makeZip, patchEntryName } from './fixture_zip.js';

let srv: FixtureServer;
let work: string;
const archives: Record<string, ArchiveSpec> = {};

function publish(key: 'annotations' | 'train' | 'val', urlPath: string, zip: Buffer): void {
  srv.files.set(urlPath, zip);
  archives[key] = {
    name: path.basename(urlPath),
    urlPath,
    bytes: zip.length,
    md5: crypto.createHash('md5').update(zip).digest('hex'),
  };
}

before(async () => {
  srv = await startFixtureServer();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'prepare-'));
  const jpg = await sharp(Buffer.alloc(16 * 12 * 3, 120), { raw: { width: 16, height: 12, channels: 3 } })
    .jpeg()
    .toBuffer();
  const ann = (split: string, images: number, first: number) => {
    const f = path.join(work, `${split}.json`);
    writeSyntheticCoco(f, { images, seed: first, firstImageId: first });
    return fs.readFileSync(f);
  };
  publish(
    'annotations',
    '/annotations/annotations_trainval2017.zip',
    await makeZip([
      { name: 'annotations/instances_train2017.json', data: ann('train', 30, 1) },
      { name: 'annotations/instances_val2017.json', data: ann('val', 10, 5000) },
      { name: 'annotations/captions_train2017.json', data: '{}' },
    ]),
  );
  const imgs = (dir: string, n: number, first: number) =>
    Array.from({ length: n }, (_, i) => ({ name: `${dir}/${String(first + i).padStart(12, '0')}.jpg`, data: jpg }));
  publish('val', '/zips/val2017.zip', await makeZip([{ name: 'val2017/', dir: true }, ...imgs('val2017', 10, 5000)]));
  publish('train', '/zips/train2017.zip', await makeZip(imgs('train2017', 30, 1)));
});
after(async () => {
  await srv.close();
});

const deps = (): PrepareDeps => ({ archives: { ...archives }, retries: 0 });
const root = (name: string) => path.join(work, name);

test('--annotations-only: only the requested instances file is unpacked; counts in dataset.json', async () => {
  const r = await prepareCoco(
    { dataRoot: root('ann'), download: true, annotationsOnly: true, splits: ['val'], mirror: srv.url, quiet: true },
    deps(),
  );
  assert.ok(fs.existsSync(path.join(root('ann'), 'annotations/instances_val2017.json')));
  assert.deepEqual(fs.readdirSync(path.join(root('ann'), 'annotations')), ['instances_val2017.json']);
  assert.equal(fs.existsSync(path.join(root('ann'), 'images')), false);
  assert.equal(
    fs.existsSync(path.join(root('ann'), 'downloads/annotations_trainval2017.zip')),
    false,
    'archive removed after unpacking',
  );
  const src = JSON.parse(fs.readFileSync(path.join(root('ann'), 'annotations/instances_val2017.json'), 'utf8'));
  assert.equal(r.manifest.totals.val.annotations, src.annotations.length);
  assert.equal(
    r.manifest.counts.val.person.boxes + r.manifest.counts.val.person.crowd,
    src.annotations.filter((a: { category_id: number }) => a.category_id === 1).length,
  );
});

test('full prepare: a cut connection fails cleanly, the re-run resumes with Range, a third run does nothing', async () => {
  srv.faults.set('/zips/val2017.zip', { cutAfter: 700, times: 1 });
  const params = { dataRoot: root('full'), download: true, mirror: srv.url + '/', quiet: true };
  await assert.rejects(
    prepareCoco(params, deps()),
    (e: Error) => e.name === 'UserError' && /run again to resume/.test(e.message),
  );
  assert.equal(
    fs.existsSync(path.join(root('full'), 'images/val2017')),
    false,
    'nothing unpacked from a partial archive',
  );
  assert.ok(fs.existsSync(path.join(root('full'), 'downloads/val2017.zip.part')));
  srv.log.length = 0;
  const r = await prepareCoco(params, deps());
  assert.ok(
    srv.log.some((l) => l.path === '/zips/val2017.zip' && /^bytes=\d+-$/.test(l.range ?? '')),
    'resumed with a Range request',
  );
  assert.ok(r.actions.some((a) => /val2017\.zip: downloaded .*\(resumed\)/.test(a)));
  assert.equal(fs.readdirSync(path.join(root('full'), 'images/val2017')).length, 10);
  assert.equal(fs.readdirSync(path.join(root('full'), 'images/train2017')).length, 30);
  assert.deepEqual(Object.keys(r.manifest.counts), ['train', 'val']);
  srv.log.length = 0;
  const again = await prepareCoco(params, deps());
  assert.equal(srv.log.length, 0, 'an idempotent re-run makes no request');
  assert.deepEqual(again.actions, ['annotations: present', 'train images: present', 'val images: present']);
});

test('a malicious entry in an image archive is refused; nothing escapes and the split is not marked done', async () => {
  const evil = patchEntryName(
    await makeZip([
      { name: 'val2017/a.jpg', data: 'x' },
      { name: 'xxxxx/evil.jpg', data: 'pwned' },
    ]),
    'xxxxx/evil.jpg',
    '../../evil.jpg',
  );
  const saved = { ...archives };
  const savedZip = srv.files.get('/zips/val2017.zip')!;
  publish('val', '/zips/val2017.zip', evil);
  try {
    await assert.rejects(
      prepareCoco({ dataRoot: root('evil'), download: true, splits: ['val'], mirror: srv.url, quiet: true }, deps()),
      /refusing .*evil\.jpg/,
    );
    assert.equal(fs.existsSync(path.join(work, 'evil.jpg')), false);
    assert.equal(fs.existsSync(path.join(root('evil'), 'evil.jpg')), false);
    assert.equal(fs.existsSync(path.join(root('evil'), '.prepare/val2017.done')), false);
  } finally {
    Object.assign(archives, saved);
    srv.files.set('/zips/val2017.zip', savedZip);
  }
});

test('a wrong size is refused; without --download a missing part says how to get it', async () => {
  const d = deps();
  d.archives!.annotations = { ...archives.annotations, bytes: archives.annotations.bytes + 1 };
  await assert.rejects(
    prepareCoco({ dataRoot: root('size'), download: true, annotationsOnly: true, mirror: srv.url, quiet: true }, d),
    /expected \d+: wrong file or a changed mirror/,
  );
  assert.equal(fs.existsSync(path.join(root('size'), 'annotations')), false);
  await assert.rejects(
    prepareCoco({ dataRoot: root('none'), quiet: true }),
    /instances_train2017\.json is missing: run `detrlab prepare-coco --data-root .* --download`/,
  );
});
