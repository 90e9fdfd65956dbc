/**
 * Safe, resumable zip extraction (yauzl, streaming: one entry at a time, never the whole archive).
 *
 *   await unzip({ zip: 'data/coco/downloads/val2017.zip', dest: 'data/coco/images' });
 *
 * - Every entry name is checked before anything is written: absolute paths, drive letters, backslashes,
 *   `..` segments and symlinks are refused with a UserError naming the entry (zip-slip).
 * - Each file is written to a temporary name and renamed, so a present file is always complete;
 *   files already present with the entry's size are skipped (a re-run after a crash resumes).
 * - CRC-32 of every written file is checked (yauzl checks sizes, not CRCs).
 * - Free disk space for the files still to write is checked first; progress shows bytes written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as yauzl from 'yauzl';
import { crc32 } from '@node-rs/crc32';
import { UserError } from '../params/user_error.js';
import { progress, Progress } from '../viz/progress.js';
import { checkFreeSpace } from './download.js';

export interface UnzipOptions {
  zip: string;
  dest: string;
  /** Keep only entries whose name passes (e.g. `n => n.startsWith('annotations/instances_')`). */
  filter?: (entryName: string) => boolean;
  label?: string;
  /** Bytes that must stay free after extraction (default 1 GB). */
  minFreeBytes?: number;
  quiet?: boolean;
}

export interface UnzipResult {
  files: number;
  written: number;
  skipped: number;
  bytes: number;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** The absolute output path of a zip entry inside `root`, or a UserError if it would escape or is absolute. */
export function safeEntryPath(root: string, name: string, zip = 'zip'): string {
  const bad = (why: string) => new UserError(`${zip}: refusing entry '${name}': ${why}`);
  if (name.includes('\\')) throw bad('backslash in the name');
  if (/^[a-zA-Z]:/.test(name) || name.startsWith('/')) throw bad('absolute path');
  if (name.split('/').includes('..')) throw bad("'..' escapes the target folder");
  const base = path.resolve(root);
  const out = path.resolve(base, name);
  if (out !== base && !out.startsWith(base + path.sep)) throw bad('resolves outside the target folder');
  return out;
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (err, zf) =>
      err ? reject(err) : resolve(zf!),
    );
  });
}

/** All entries of the central directory (names only; no data read). */
function listEntries(zf: yauzl.ZipFile, zipName: string): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const out: yauzl.Entry[] = [];
    zf.on('entry', (e: yauzl.Entry) => {
      out.push(e);
      zf.readEntry();
    });
    zf.on('end', () => resolve(out));
    zf.on('error', (e: Error) =>
      reject(/fileName|path/.test(e.message) ? new UserError(`${zipName}: refusing unsafe entry (${e.message})`) : e),
    );
    zf.readEntry();
  });
}

const isDir = (e: yauzl.Entry) => e.fileName.endsWith('/');
const isSymlink = (e: yauzl.Entry) => ((e.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK;

async function extractEntry(
  zf: yauzl.ZipFile,
  e: yauzl.Entry,
  out: string,
  bar: Progress,
  zipName: string,
): Promise<void> {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.unzip-${process.pid}.tmp`;
  const rs = await new Promise<NodeJS.ReadableStream>((res, rej) =>
    zf.openReadStream(e, (err, s) => (err ? rej(err) : res(s!))),
  );
  let crc = 0;
  const check = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      crc = crc32(chunk, crc);
      bar.tick(chunk.length);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(rs, check, fs.createWriteStream(tmp));
    if (crc >>> 0 !== e.crc32 >>> 0)
      throw new UserError(`${zipName}: entry '${e.fileName}' is corrupt (CRC-32 mismatch); download the archive again`);
    fs.renameSync(tmp, out);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    if (err instanceof UserError) throw err;
    throw new UserError(
      `${zipName}: entry '${e.fileName}' could not be extracted (${(err as Error).message}); the archive is damaged, download it again`,
    );
  }
}

/** Extracts `zip` into `dest` (see the file comment). */
export async function unzip(o: UnzipOptions): Promise<UnzipResult> {
  const zipName = path.basename(o.zip);
  if (!fs.existsSync(o.zip)) throw new UserError(`zip archive not found: ${o.zip}`);
  let zf: yauzl.ZipFile;
  try {
    zf = await openZip(o.zip);
  } catch (e) {
    throw new UserError(`${o.zip} is not a readable zip archive: ${(e as Error).message}`);
  }
  try {
    const entries = (await listEntries(zf, zipName)).filter((e) => !o.filter || o.filter(e.fileName));
    const plan = entries.map((e) => {
      if (isSymlink(e)) throw new UserError(`${zipName}: refusing entry '${e.fileName}': symbolic link`);
      return { e, out: safeEntryPath(o.dest, e.fileName, zipName) };
    });
    const todo = plan.filter(
      ({ e, out }) => !isDir(e) && !(fs.existsSync(out) && fs.statSync(out).size === e.uncompressedSize),
    );
    const bytes = todo.reduce((s, { e }) => s + e.uncompressedSize, 0);
    checkFreeSpace(o.dest, bytes, o.minFreeBytes ?? 1e9, `extracting ${zipName}`);
    for (const { e, out } of plan) if (isDir(e)) fs.mkdirSync(out, { recursive: true });
    const bar = progress({ label: o.label ?? `unzip ${zipName}`, unit: 'B', total: bytes, quiet: o.quiet });
    for (const { e, out } of todo) await extractEntry(zf, e, out, bar, zipName);
    bar.done();
    const files = plan.filter(({ e }) => !isDir(e)).length;
    return { files, written: todo.length, skipped: files - todo.length, bytes };
  } finally {
    zf.close();
  }
}
