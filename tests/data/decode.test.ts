import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { decodeRgb, DecodeError } from '../../lib/data/decode.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decode-'));
const rawRgb = (w: number, h: number) => {
  const b = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) b.set([i * 10, 100, 200 - i * 10], i * 3);
  return b;
};
const write = async (name: string, img: sharp.Sharp) => {
  const f = path.join(dir, name);
  await img.toFile(f);
  return f;
};

test('grey, alpha, 16-bit and CMYK inputs all come out as 8-bit RGB', async () => {
  const grey = await write(
    'g.png',
    sharp(Buffer.from([0, 128, 255, 64]), { raw: { width: 2, height: 2, channels: 1 } }).png(),
  );
  assert.deepEqual([...(await decodeRgb(grey)).data], [0, 0, 0, 128, 128, 128, 255, 255, 255, 64, 64, 64]);
  const rgba = await write(
    'a.png',
    sharp(Buffer.from([10, 20, 30, 0, 40, 50, 60, 255]), { raw: { width: 2, height: 1, channels: 4 } }).png(),
  );
  assert.deepEqual([...(await decodeRgb(rgba)).data], [10, 20, 30, 40, 50, 60]); // alpha dropped, colour kept (PIL convert('RGB'))
  const deep = await write(
    'd.png',
    sharp(rawRgb(4, 2), { raw: { width: 4, height: 2, channels: 3 } })
      .toColourspace('rgb16')
      .png(),
  );
  assert.deepEqual([...(await decodeRgb(deep)).data], [...rawRgb(4, 2)]);
  const cmyk = await write(
    'c.jpg',
    sharp(Buffer.alloc(8 * 8 * 3, 180), { raw: { width: 8, height: 8, channels: 3 } })
      .toColourspace('cmyk')
      .jpeg({ quality: 100 }),
  );
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
  const c = await decodeRgb(cmyk);
  assert.equal(c.data.length, 8 * 8 * 3);
  for (const v of c.data) assert.ok(Math.abs(v - 180) <= 12, `cmyk round trip ${v}`);
});

test('EXIF orientation is applied, unless the annotation size says the stored pixels are meant', async () => {
  const f = await write(
    'o.png',
    sharp(rawRgb(4, 2), { raw: { width: 4, height: 2, channels: 3 } })
      .withMetadata({ orientation: 6 })
      .png(),
  );
  const auto = await decodeRgb(f);
  assert.deepEqual([auto.width, auto.height, auto.exifApplied], [2, 4, true]);
  // orientation 6 = rotate 90° clockwise: the stored bottom-left pixel (index 4) becomes the top-left
  assert.deepEqual([...auto.data.subarray(0, 3)], [40, 100, 160]);
  const stored = await decodeRgb(f, { width: 4, height: 2 });
  assert.deepEqual([stored.width, stored.height, stored.exifApplied], [4, 2, false]);
  assert.deepEqual([...stored.data], [...rawRgb(4, 2)]);
  assert.equal((await decodeRgb(f, { width: 2, height: 4 })).exifApplied, true);
});

test('missing, truncated and wrong-size images are DecodeErrors that name the file', async () => {
  await assert.rejects(
    decodeRgb(path.join(dir, 'nope.jpg')),
    (e: DecodeError) => e instanceof DecodeError && e.reason === 'file not found' && e.message.includes('nope.jpg'),
  );
  const good = await sharp(Buffer.alloc(64 * 64 * 3, 90), { raw: { width: 64, height: 64, channels: 3 } })
    .jpeg()
    .toBuffer();
  const cut = path.join(dir, 'cut.jpg');
  fs.writeFileSync(cut, good.subarray(0, good.length >> 1));
  await assert.rejects(
    decodeRgb(cut),
    (e: DecodeError) => e instanceof DecodeError && /corrupt|unreadable/.test(e.reason),
  );
  const junk = path.join(dir, 'junk.jpg');
  fs.writeFileSync(junk, 'not an image');
  await assert.rejects(decodeRgb(junk), DecodeError);
  const ok = path.join(dir, 'ok.jpg');
  fs.writeFileSync(ok, good);
  await assert.rejects(decodeRgb(ok, { width: 60, height: 64 }), /is 64×64 but the annotations say 60×64/);
});

test('decoded concurrently with unreadable files, a missing file is still "file not found"', async () => {
  // libvips keeps one error buffer for all threads: sharp's "Input file is missing" depends on reading it
  // before another thread's error lands there, which failed about 1 time in 600 (a CI run hit it).
  const junk = path.join(dir, 'junk-many.jpg');
  fs.writeFileSync(junk, Buffer.alloc(100, 7));
  const reasons = async (f: string) =>
    decodeRgb(f).then(
      () => 'decoded',
      (e: DecodeError) => e.reason,
    );
  for (let round = 0; round < 1500; round++) {
    const got = await Promise.all(
      [0, 1, 2, 3].flatMap((i) => [reasons(path.join(dir, `gone-${i}.jpg`)), reasons(junk)]),
    );
    got.forEach((r, i) => assert.match(r, i % 2 === 0 ? /^file not found$/ : /^unreadable image/, `round ${round}`));
  }
});
