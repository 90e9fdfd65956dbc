/**
 * Crash-safe file writes: write to a temp file in the same folder, fsync, rename over the target.
 * A kill at any moment leaves either the old file or the new one, never a torn one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonFile } from './json_file.js';

let counter = 0;
const tmpName = (file: string) =>
  path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${counter++}.tmp`);

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tmpName(file);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export const writeJsonAtomic = (file: string, value: unknown): void =>
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');

/**
 * Replaces a whole folder atomically-enough: the new content is written into `<dir>.tmp-…` by `fill`,
 * then the old folder is moved aside and the new one renamed into place. Between the two renames a
 * reader sees either the old folder or `<dir>.old-…` next to the new one; `recoverDir` repairs that.
 */
export function replaceDirAtomic(dir: string, fill: (tmpDir: string) => void): void {
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.tmp-${process.pid}-${counter++}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  fill(tmp);
  const old = path.join(parent, `.${path.basename(dir)}.old`);
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

/** If a crash happened between the two renames of `replaceDirAtomic`, put the old folder back. */
export function recoverDir(dir: string): void {
  const old = path.join(path.dirname(dir), `.${path.basename(dir)}.old`);
  if (!fs.existsSync(dir) && fs.existsSync(old)) fs.renameSync(old, dir);
}

/** A JSON object file; a missing, empty or malformed file is a UserError naming it (see json_file.ts). */
export const readJson = <T>(file: string, what?: string): T => readJsonFile<T>(file, { what });
