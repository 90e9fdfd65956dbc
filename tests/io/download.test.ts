import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { download, parseContentRange } from '../../lib/io/download.js';
import { startFixtureServer, fixtureBytes, FixtureServer } from '../coco/fixture_server.js';

let srv: FixtureServer;
let dir: string;
const DATA = fixtureBytes(200_000, 7);
const MD5 = crypto.createHash('md5').update(DATA).digest('hex');
const SHA256 = crypto.createHash('sha256').update(DATA).digest('hex');

before(async () => {
  srv = await startFixtureServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-'));
});
after(async () => {
  await srv.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const fresh = (name: string, data = DATA) => {
  srv.files.set(`/${name}`, data);
  srv.log.length = 0;
  return { url: `${srv.url}/${name}`, dest: path.join(dir, name), quiet: true };
};

test('downloads, verifies size+md5+sha256, and skips a verified file on re-run', async () => {
  const o = { ...fresh('a.bin'), expectedSize: DATA.length, md5: MD5, sha256: SHA256 };
  const r = await download(o);
  assert.deepEqual([r.bytes, r.resumed, r.skipped], [DATA.length, false, false]);
  assert.ok(fs.readFileSync(o.dest).equals(DATA));
  const again = await download(o);
  assert.equal(again.skipped, true);
  assert.equal(srv.log.length, 1, 'second run makes no request');
});

test('a cut connection leaves only the .part; the next run resumes with Range and completes', async () => {
  const o = { ...fresh('cut.bin'), expectedSize: DATA.length, md5: MD5, retries: 0 };
  srv.faults.set('/cut.bin', { cutAfter: 70_000, times: 1 });
  await assert.rejects(download(o), (e: Error) => e.name === 'UserError' && /run again to resume/.test(e.message));
  assert.equal(fs.existsSync(o.dest), false, 'no half-written dest');
  const partSize = fs.statSync(o.dest + '.part').size;
  assert.ok(partSize > 0 && partSize <= 70_000, `part holds a prefix (${partSize} bytes)`);
  const r = await download(o);
  assert.equal(r.resumed, true);
  assert.equal(srv.log.at(-1)?.range, `bytes=${partSize}-`);
  assert.ok(fs.readFileSync(o.dest).equals(DATA));
  assert.equal(fs.existsSync(o.dest + '.part'), false);
});

test('automatic retries resume within one call', async () => {
  const o = { ...fresh('retry.bin'), md5: MD5, retries: 3 };
  srv.faults.set('/retry.bin', { cutAfter: 50_000, times: 2 });
  const r = await download(o);
  assert.equal(r.resumed, true);
  assert.equal(srv.log.length, 3);
  assert.ok(fs.readFileSync(o.dest).equals(DATA));
});

test('a wrong size is refused before writing; nothing is left behind', async () => {
  const o = { ...fresh('size.bin'), expectedSize: DATA.length + 1 };
  await assert.rejects(download(o), /200000 bytes on the server, expected 200001/);
  assert.equal(fs.existsSync(o.dest), false);
  assert.equal(fs.existsSync(o.dest + '.part'), false);
});

test('a wrong checksum is refused; dest is never created and the bad part is removed', async () => {
  const o = { ...fresh('sum.bin'), expectedSize: DATA.length, md5: 'd41d8cd98f00b204e9800998ecf8427e' };
  await assert.rejects(download(o), /md5 [0-9a-f]{32}, expected d41d8cd98f00b204e9800998ecf8427e/);
  assert.equal(fs.existsSync(o.dest), false);
  assert.equal(fs.existsSync(o.dest + '.part'), false);
});

test('a server that ignores Range (200) restarts from byte 0 over a stale part', async () => {
  const o = { ...fresh('norange.bin'), expectedSize: DATA.length, md5: MD5 };
  fs.writeFileSync(o.dest + '.part', Buffer.alloc(5000, 0xee)); // wrong bytes: appending would corrupt
  srv.faults.set('/norange.bin', { ignoreRange: true });
  const r = await download(o);
  assert.equal(srv.log[0].range, 'bytes=5000-');
  assert.equal(r.resumed, false);
  assert.ok(fs.readFileSync(o.dest).equals(DATA));
});

test('416 on a part that is already whole finishes without re-downloading', async () => {
  const o = { ...fresh('whole.bin'), md5: MD5 };
  fs.writeFileSync(o.dest + '.part', DATA);
  const r = await download(o);
  assert.equal(r.resumed, true);
  assert.ok(fs.readFileSync(o.dest).equals(DATA));
});

test('redirects are followed (relative, and absolute to another server)', async () => {
  const other = await startFixtureServer();
  try {
    other.files.set('/real.bin', DATA);
    srv.redirects.set('/hop1', '/hop2');
    srv.redirects.set('/hop2', `${other.url}/real.bin`);
    const o = { url: `${srv.url}/hop1`, dest: path.join(dir, 'redir.bin'), md5: MD5, quiet: true };
    await download(o);
    assert.ok(fs.readFileSync(o.dest).equals(DATA));
  } finally {
    await other.close();
  }
});

test('HTTP errors and a full disk are UserErrors; the disk check happens before any request', async () => {
  srv.log.length = 0;
  await assert.rejects(download({ url: `${srv.url}/missing`, dest: path.join(dir, 'm.bin'), quiet: true }), /HTTP 404/);
  srv.log.length = 0;
  const o = { ...fresh('big.bin'), expectedSize: DATA.length, minFreeBytes: 1e18 };
  await assert.rejects(download(o), /not enough disk space/);
  assert.equal(srv.log.length, 0);
});

test('a refused connection is a UserError naming the URL', async () => {
  const o = { url: 'http://127.0.0.1:1/x.bin', dest: path.join(dir, 'refused.bin'), retries: 0, quiet: true };
  await assert.rejects(
    download(o),
    (e: Error) => e.name === 'UserError' && e.message.includes('http://127.0.0.1:1/x.bin'),
  );
});

test('parseContentRange', () => {
  assert.deepEqual(parseContentRange('bytes 100-999/1000'), { start: 100, total: 1000 });
  assert.deepEqual(parseContentRange('bytes */1000'), { start: undefined, total: 1000 });
  assert.deepEqual(parseContentRange(undefined), {});
});

test('without Content-Length, a connection closed early is resumed (compared with the known size), not deleted', async () => {
  const o = { ...fresh('nolen.bin'), expectedSize: DATA.length, md5: MD5, retries: 0 };
  srv.faults.set('/nolen.bin', { noLength: true, cutAfter: 60_000, times: 1 });
  await assert.rejects(
    download(o),
    (e: Error) =>
      e.name === 'UserError' && /connection closed at 60000 of 200000 bytes.*run again to resume/.test(e.message),
  );
  assert.equal(fs.statSync(o.dest + '.part').size, 60_000, 'the part is kept');
  const r = await download(o);
  assert.equal(r.resumed, true);
  assert.equal(srv.log.at(-1)?.range, 'bytes=60000-');
  assert.ok(fs.readFileSync(o.dest).equals(DATA));
});

test('5xx answers are retried, then succeed; when they persist the error names the status', async () => {
  const o = { ...fresh('busy.bin'), expectedSize: DATA.length, md5: MD5, retries: 2 };
  srv.faults.set('/busy.bin', { status: 503, times: 2 });
  const r = await download(o);
  assert.equal(srv.log.length, 3, 'two 503s, then the file');
  assert.ok(fs.readFileSync(r.path).equals(DATA));
  const p = { ...fresh('down.bin'), retries: 1 };
  srv.faults.set('/down.bin', { status: 502, times: 5 });
  await assert.rejects(
    download(p),
    (e: Error) => e.name === 'UserError' && /failed after 2 attempt\(s\): HTTP 502/.test(e.message),
  );
  const q = { ...fresh('gone.bin'), retries: 3 };
  srv.faults.set('/gone.bin', { status: 404, times: 5 });
  await assert.rejects(download(q), /HTTP 404/);
  assert.equal(srv.log.length, 1, 'a 404 is not retried');
});

test('a stalled body says "timed out" and keeps the part for a resume', async () => {
  const o = { ...fresh('stall.bin'), expectedSize: DATA.length, retries: 0, idleTimeoutMs: 300 };
  srv.faults.set('/stall.bin', { stall: true, cutAfter: 30_000, times: 1 });
  await assert.rejects(
    download(o),
    (e: Error) =>
      e.name === 'UserError' && /timed out: no data for 0 s|timed out/.test(e.message) && !/aborted/.test(e.message),
  );
  assert.ok(fs.statSync(o.dest + '.part').size > 0);
  const r = await download(o);
  assert.equal(r.resumed, true);
  assert.ok(fs.readFileSync(o.dest).equals(DATA));
});
