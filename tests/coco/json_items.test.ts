import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ArraySplitter, TopLevelScanner } from '../../lib/coco/json_scan.js';
import { forEachItem, locateTopLevel, readRangeJson } from '../../lib/coco/json_items.js';
import { writeSyntheticCoco } from '../fixtures/synthetic_coco.js';

const TRICKY = {
  'a"b': 'x]}\\"{,',
  images: [
    { id: 1, file_name: 'é 漢字 "q" [x]' },
    [],
    {},
    3.5e-7,
    'str,with]comma',
    null,
    true,
    [[1, [2]], { k: '}' }],
  ],
  n: -12.5,
  t: true,
  nested: { deep: { arr: [1, 2, { z: '\\' }] } },
  empty: [],
  s: 'plain',
};
const DOC = Buffer.from(' \n' + JSON.stringify(TRICKY, null, 1) + '\n');

function feedInChunks(feed: (b: Buffer, base: number) => void, buf: Buffer, size: number): void {
  for (let i = 0; i < buf.length; i += size) feed(buf.subarray(i, i + size), i);
}

test('TopLevelScanner finds every value range, whatever the chunk size', () => {
  for (const size of [1, 2, 3, 5, 7, 64, 1 << 20]) {
    const sc = new TopLevelScanner('doc');
    feedInChunks((b, base) => sc.feed(b, base), DOC, size);
    const ranges = sc.finish();
    assert.deepEqual([...ranges.keys()], Object.keys(TRICKY), `chunk ${size}`);
    for (const [k, r] of ranges)
      assert.deepEqual(
        JSON.parse(DOC.subarray(r.start, r.end).toString()),
        (TRICKY as Record<string, unknown>)[k],
        `${k} @ chunk ${size}`,
      );
  }
});

test('ArraySplitter yields each item exactly, whatever the chunk size', () => {
  const arr = Buffer.from(JSON.stringify(TRICKY.images, null, 2));
  for (const size of [1, 2, 3, 4, 11, 1 << 20]) {
    const got: unknown[] = [];
    const sp = new ArraySplitter((b) => got.push(JSON.parse(b.toString())), 'arr');
    feedInChunks((b, base) => sp.feed(b, base), arr, size);
    assert.equal(sp.finish(), TRICKY.images.length);
    assert.deepEqual(got, TRICKY.images, `chunk ${size}`);
  }
  const empty = new ArraySplitter(() => assert.fail('no items'), 'e');
  empty.feed(Buffer.from(' [ ] '), 0);
  assert.equal(empty.finish(), 0);
});

test('malformed input is a UserError that says where', () => {
  const sc = new TopLevelScanner('f.json');
  assert.throws(() => sc.feed(Buffer.from('[1,2]'), 0), /f\.json: .*top level is not an object/);
  const trunc = new TopLevelScanner('t.json');
  trunc.feed(Buffer.from('{"images": [1, 2'), 0);
  assert.throws(() => trunc.finish(), /truncated/);
  const sp = new ArraySplitter(() => undefined, 'arr');
  assert.throws(() => sp.feed(Buffer.from('[1,,2]'), 0), /unexpected ','/);
  const sp2 = new ArraySplitter(() => undefined, 'arr');
  sp2.feed(Buffer.from('[1, 2'), 0);
  assert.throws(() => sp2.finish(), /truncated/);
});

test('both engines read the same items from a file; the file is located in any key order', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'items-'));
  const file = path.join(dir, 'a.json');
  const st = writeSyntheticCoco(file, { images: 60, seed: 3 });
  const whole = JSON.parse(fs.readFileSync(file, 'utf8'));
  const ranges = await locateTopLevel(file);
  assert.deepEqual([...ranges.keys()], ['info', 'licenses', 'images', 'annotations', 'categories']);
  assert.deepEqual(await readRangeJson(file, ranges.get('categories')!, 'categories'), whole.categories);
  for (const key of ['images', 'annotations']) {
    const split: unknown[] = [];
    const sj: unknown[] = [];
    await forEachItem(file, ranges.get(key)!, key, (x) => split.push(x), { engine: 'split' });
    await forEachItem(file, ranges.get(key)!, key, (x) => sj.push(x), { engine: 'stream-json' });
    assert.deepEqual(split, whole[key]);
    assert.deepEqual(sj, whole[key]);
  }
  assert.equal(whole.annotations.length, st.annotations);
  fs.writeFileSync(file, '{"images":[{"id":1},{"id":2,}],"annotations":[],"categories":[]}');
  const bad = await locateTopLevel(file);
  await assert.rejects(
    forEachItem(file, bad.get('images')!, 'images', () => undefined),
    /item 1 at byte \d+ is not valid JSON/,
  );
  await assert.rejects(
    forEachItem(file, bad.get('images')!, 'images', () => undefined, { engine: 'stream-json' }),
    /not valid JSON/,
  );
});
