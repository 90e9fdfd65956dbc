import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { unzip, safeEntryPath } from '../../lib/io/unzip.js';
import { makeZip, patchEntryName } from '../coco/fixture_zip.js';
import { fixtureBytes } from '../coco/fixture_server.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'unzip-'));
const BIG = fixtureBytes(300_000, 3);

async function writeZip(dir: string, items: Parameters<typeof makeZip>[0], patch?: [string, string]): Promise<string> {
  let buf = await makeZip(items);
  if (patch) buf = patchEntryName(buf, patch[0], patch[1]);
  const file = path.join(dir, 'a.zip');
  fs.writeFileSync(file, buf);
  return file;
}

test('extracts files and folders; a re-run skips what is present; a filter selects entries', async () => {
  const dir = tmp();
  const zip = await writeZip(dir, [
    { name: 'top/', dir: true },
    { name: 'top/x.bin', data: BIG },
    { name: 'top/sub/y.txt', data: 'hello' },
    { name: 'z.txt', data: '' },
  ]);
  const dest = path.join(dir, 'out');
  const r = await unzip({ zip, dest, quiet: true });
  assert.deepEqual(r, { files: 3, written: 3, skipped: 0, bytes: BIG.length + 5 });
  assert.ok(fs.readFileSync(path.join(dest, 'top/x.bin')).equals(BIG));
  assert.equal(fs.readFileSync(path.join(dest, 'top/sub/y.txt'), 'utf8'), 'hello');
  const again = await unzip({ zip, dest, quiet: true });
  assert.deepEqual([again.written, again.skipped], [0, 3]);
  fs.rmSync(path.join(dest, 'top/sub/y.txt')); // a crash before this file: only it is written again
  const resumed = await unzip({ zip, dest, quiet: true });
  assert.deepEqual([resumed.written, resumed.bytes], [1, 5]);
  const only = await unzip({ zip, dest: path.join(dir, 'only'), filter: (n) => n.endsWith('.txt'), quiet: true });
  assert.equal(only.files, 2);
  assert.equal(fs.existsSync(path.join(dir, 'only/top/x.bin')), false);
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test("an entry with '..' is refused and nothing at all is written", async () => {
  const dir = tmp();
  const zip = await writeZip(
    dir,
    [
      { name: 'ok.txt', data: 'fine' },
      { name: 'xx/evil.txt', data: 'pwned' },
    ],
    ['xx/evil.txt', '../evil.txt'],
  );
  const dest = path.join(dir, 'out');
  await assert.rejects(
    unzip({ zip, dest, quiet: true }),
    (e: Error) => e.name === 'UserError' && /\.\.\/evil\.txt/.test(e.message),
  );
  assert.equal(fs.existsSync(path.join(dir, 'evil.txt')), false);
  assert.equal(fs.existsSync(path.join(dest, 'ok.txt')), false, 'validation happens before any write');
});

test('an absolute entry path is refused', async () => {
  const dir = tmp();
  const zip = await writeZip(dir, [{ name: 'tmp/pwned.txt', data: 'x' }], ['tmp/pwned.txt', '/tm/pwned.txt']);
  await assert.rejects(unzip({ zip, dest: path.join(dir, 'out'), quiet: true }), /absolute path/);
});

test('a symlink entry is refused', async () => {
  const dir = tmp();
  const zip = await writeZip(dir, [{ name: 'link', data: '/etc/passwd', mode: 0o120777 }]);
  await assert.rejects(unzip({ zip, dest: path.join(dir, 'out'), quiet: true }), /symbolic link/);
});

test('a corrupted archive is a UserError and leaves no partial file', async () => {
  const dir = tmp();
  const good = await makeZip([{ name: 'x.bin', data: BIG }]);
  const bad = Buffer.from(good);
  bad[200] ^= 0xff; // inside the compressed data of the only entry
  const zip = path.join(dir, 'bad.zip');
  fs.writeFileSync(zip, bad);
  const dest = path.join(dir, 'out');
  await assert.rejects(
    unzip({ zip, dest, quiet: true }),
    (e: Error) => e.name === 'UserError' && /x\.bin/.test(e.message),
  );
  assert.equal(fs.existsSync(path.join(dest, 'x.bin')), false);
  assert.deepEqual(fs.existsSync(dest) ? fs.readdirSync(dest) : [], []);
  fs.writeFileSync(zip, 'not a zip');
  await assert.rejects(unzip({ zip, dest, quiet: true }), /not a readable zip/);
});

test('safeEntryPath', () => {
  assert.equal(safeEntryPath('/r', 'a/b.txt'), path.resolve('/r/a/b.txt'));
  for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'C:/x', 'a\\b'])
    assert.throws(() => safeEntryPath('/r', bad), /refusing/);
});
