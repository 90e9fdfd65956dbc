/**
 * Resumable, verified downloads.
 *
 *   await download({ url, dest: 'data/coco/downloads/val2017.zip', expectedSize: 815585330, md5: '442b…' });
 *
 * Bytes go to `<dest>.part`; an interrupted download resumes from it with an HTTP Range request (206 →
 * append; a 200 that ignores Range → restart; 416 → the part is already whole or stale). Size and
 * checksums are verified before the part is renamed onto `dest`, so `dest` is either absent or complete
 * and verified. A `dest` already present and verified is skipped (idempotent). Network failures are
 * retried with resume; when retries run out a UserError says so and the `.part` stays for the next run.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { UserError } from '../params/user_error.js';
import { progress, Progress } from '../viz/progress.js';
import { httpGet } from './http.js';

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Exact byte size when known (COCO archives: COCO_2017_ARCHIVES in lib/coco/prepare.ts). */
  expectedSize?: number;
  md5?: string;
  sha256?: string;
  /** Progress bar label (default: the file name). */
  label?: string;
  /** Bytes that must stay free after the download (default 1 GB). */
  minFreeBytes?: number;
  /** Automatic resumed retries after a network failure (default 3). */
  retries?: number;
  idleTimeoutMs?: number;
  quiet?: boolean;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  resumed: boolean;
  skipped: boolean;
}

const GB = 1e9;
const fmtGb = (b: number) => `${(b / GB).toFixed(2)} GB`;

/** Free bytes for an unprivileged user on the file system holding `dir`. */
export function freeBytes(dir: string): number {
  let d = path.resolve(dir);
  while (!fs.existsSync(d)) d = path.dirname(d);
  const s = fs.statfsSync(d);
  return Number(s.bavail) * Number(s.bsize);
}

/** UserError unless `needBytes` plus a `keepFree` margin fit on the disk holding `dir`. */
export function checkFreeSpace(dir: string, needBytes: number, keepFree: number, what: string): void {
  const free = freeBytes(dir);
  if (free < needBytes + keepFree) {
    throw new UserError(
      `not enough disk space for ${what}: needs ${fmtGb(needBytes)} (+${fmtGb(keepFree)} kept free), ` +
        `only ${fmtGb(free)} free under ${path.resolve(dir)}`,
    );
  }
}

type Hashers = Array<{ algo: string; want: string; h: crypto.Hash }>;
const makeHashers = (o: DownloadOptions): Hashers => [
  ...(o.md5 ? [{ algo: 'md5', want: o.md5.toLowerCase(), h: crypto.createHash('md5') }] : []),
  ...(o.sha256 ? [{ algo: 'sha256', want: o.sha256.toLowerCase(), h: crypto.createHash('sha256') }] : []),
];

async function hashFileInto(file: string, hashers: Hashers, bar?: Progress): Promise<void> {
  if (hashers.length === 0) return;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    for (const x of hashers) x.h.update(chunk as Buffer);
    bar?.tick((chunk as Buffer).length);
  }
}

/** Size and checksum check of a finished file; returns the problem or undefined. */
function verifyProblem(file: string, o: DownloadOptions, hashers: Hashers): string | undefined {
  const size = fs.statSync(file).size;
  if (o.expectedSize !== undefined && size !== o.expectedSize) return `size ${size} bytes, expected ${o.expectedSize}`;
  for (const x of hashers) {
    const got = x.h.digest('hex');
    if (got !== x.want) return `${x.algo} ${got}, expected ${x.want}`;
  }
  return undefined;
}

async function verifyExisting(file: string, o: DownloadOptions): Promise<string | undefined> {
  const hashers = makeHashers(o);
  const size = fs.statSync(file).size;
  if (o.expectedSize !== undefined && size !== o.expectedSize) return `size ${size} bytes, expected ${o.expectedSize}`;
  const bar = hashers.length
    ? progress({ label: `verify ${path.basename(file)}`, unit: 'B', total: size, quiet: o.quiet })
    : undefined;
  await hashFileInto(file, hashers, bar);
  bar?.done();
  return verifyProblem(file, o, hashers);
}

/** `Content-Range: bytes 100-999/1000` → { start: 100, total: 1000 }; `bytes * /1000` → { total }. */
export function parseContentRange(v: string | undefined): { start?: number; total?: number } {
  const m = /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/i.exec((v ?? '').trim());
  if (!m) return {};
  return { start: m[1] !== undefined ? Number(m[1]) : undefined, total: m[2] !== '*' ? Number(m[2]) : undefined };
}

interface Attempt {
  complete: boolean;
  resumed: boolean;
}

/** One HTTP request that appends to (or restarts) the part file. Throws on network errors. */
async function fetchIntoPart(o: DownloadOptions, part: string): Promise<Attempt> {
  let offset = fs.existsSync(part) ? fs.statSync(part).size : 0;
  if (o.expectedSize !== undefined && offset > o.expectedSize) {
    fs.rmSync(part);
    offset = 0;
  }
  if (o.expectedSize !== undefined && offset === o.expectedSize) return { complete: true, resumed: true };
  const { res, status, url } = await httpGet(o.url, {
    headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
    idleTimeoutMs: o.idleTimeoutMs,
  });
  if (status === 416) {
    res.resume();
    const { total } = parseContentRange(res.headers['content-range']);
    if (total !== undefined && total === offset) return { complete: true, resumed: true };
    fs.rmSync(part, { force: true }); // stale part (bigger than the file now served): start over
    return { complete: false, resumed: false };
  }
  if (status >= 500 || status === 429 || status === 408) {
    res.resume(); // a server-side or transient failure: retried (with resume) like a network error
    throw new Error(`HTTP ${status} ${res.statusMessage ?? ''}`.trim());
  }
  if (status !== 200 && status !== 206) {
    res.resume();
    throw new UserError(`download of ${o.url} failed: HTTP ${status} ${res.statusMessage ?? ''} from ${url}`.trim());
  }
  let total: number | undefined;
  if (status === 206) {
    const range = parseContentRange(res.headers['content-range']);
    total = range.total;
    if ((range.start ?? 0) !== offset) {
      res.destroy();
      fs.rmSync(part, { force: true });
      return { complete: false, resumed: false };
    }
  } else {
    offset = 0; // 200: the server ignored Range (or there was nothing to resume) → write from the start
    const len = Number(res.headers['content-length']);
    total = Number.isFinite(len) ? len : undefined;
  }
  if (o.expectedSize !== undefined && total !== undefined && total !== o.expectedSize) {
    res.destroy();
    throw new UserError(
      `${o.url} is ${total} bytes on the server, expected ${o.expectedSize}: wrong file or a changed mirror`,
    );
  }
  return streamBody(res, o, part, offset, total);
}

/** Appends (offset > 0) or writes the response body to the part file, with a progress bar. */
async function streamBody(
  res: NodeJS.ReadableStream,
  o: DownloadOptions,
  part: string,
  offset: number,
  total: number | undefined,
): Promise<Attempt> {
  checkFreeSpace(
    path.dirname(part),
    (total ?? o.expectedSize ?? 0) - offset,
    o.minFreeBytes ?? GB,
    `downloading ${path.basename(o.dest)}`,
  );
  const bar = progress({
    label: o.label ?? path.basename(o.dest),
    unit: 'B',
    total: total ?? o.expectedSize,
    start: offset,
    quiet: o.quiet,
  });
  const counter = new Transform({
    transform(chunk: Buffer, _e, cb) {
      bar.tick(chunk.length);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(res, counter, fs.createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' }));
  } finally {
    bar.done();
  }
  const got = fs.statSync(part).size;
  // Without Content-Length a cut connection looks like a clean end: the known size tells, and the part is resumed.
  const want = total ?? o.expectedSize;
  if (want !== undefined && got < want) throw new Error(`connection closed at ${got} of ${want} bytes`);
  return { complete: true, resumed: offset > 0 };
}

/** Downloads `url` to `dest` (see the file comment). */
export async function download(o: DownloadOptions): Promise<DownloadResult> {
  const dest = path.resolve(o.dest);
  const part = dest + '.part';
  if (fs.existsSync(dest)) {
    const problem = await verifyExisting(dest, o);
    if (problem) throw new UserError(`${dest} exists but does not match (${problem}); delete it to download again`);
    return { path: dest, bytes: fs.statSync(dest).size, resumed: false, skipped: true };
  }
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  if (o.expectedSize !== undefined) {
    const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
    checkFreeSpace(
      path.dirname(dest),
      Math.max(0, o.expectedSize - have),
      o.minFreeBytes ?? GB,
      `downloading ${path.basename(dest)}`,
    );
  }
  const retries = o.retries ?? 3;
  let resumed = false;
  for (let attempt = 0; ; attempt++) {
    try {
      const a = await fetchIntoPart(o, part);
      resumed ||= a.resumed;
      if (a.complete) break;
      if (attempt >= retries + 2)
        throw new UserError(
          `${o.url}: the server keeps answering range requests inconsistently; delete ${part} and retry`,
        );
    } catch (e) {
      if (e instanceof UserError) throw e;
      const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
      if (attempt >= retries) {
        throw new UserError(
          `download of ${o.url} failed after ${attempt + 1} attempt(s): ${(e as Error).message}. ` +
            `${have} bytes are kept in ${part}; run again to resume`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
    }
  }
  const problem = await verifyExisting(part, o);
  if (problem) {
    fs.rmSync(part, { force: true });
    throw new UserError(
      `downloaded ${o.url} but it does not verify (${problem}); the partial file was removed — check the URL/mirror`,
    );
  }
  const fd = fs.openSync(part, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(part, dest);
  return { path: dest, bytes: fs.statSync(dest).size, resumed, skipped: false };
}
