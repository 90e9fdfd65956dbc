/**
 * Skipping stages whose inputs and parameters did not change (`detrlab notebooks run`; `--force` redoes).
 *
 * A stage's key hashes the compiled library and the committed models (`models/`), the notebook (without
 * outputs), the parameters injected into it and the previous stage's key — so a change upstream re-runs
 * everything after it. What a stage wrote is found by comparing fingerprints of data/ and runs/ (three
 * levels deep, e.g. `runs/detr_demo/checkpoints`) before and after it ran; a cached stage is reused only
 * while those outputs still have the fingerprints they had when it finished (deleted or edited outputs re-run
 * it).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJson, writeJsonAtomic } from '../io/atomic.js';
import { Notebook, sourceOf } from './nbformat.js';

export interface CacheEntry {
  key: string;
  outputs: Record<string, string>;
  ms: number;
  finishedAt: string;
}
export type StageCache = Record<string, CacheEntry>;

export const readCache = (file: string): StageCache => (fs.existsSync(file) ? readJson<StageCache>(file) : {});
export const writeCache = (file: string, c: StageCache): void => writeJsonAtomic(file, c);

function walkFiles(dir: string, visit: (file: string, st: fs.Stats) => void): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walkFiles(p, visit);
    else if (e.isFile()) visit(p, fs.statSync(p));
  }
}

/** count:size:max-mtime of a file or folder. */
export function fingerprint(p: string): string {
  if (!fs.existsSync(p)) return 'missing';
  const st = fs.statSync(p);
  if (!st.isDirectory()) return `1:${st.size}:${Math.round(st.mtimeMs)}`;
  let n = 0,
    size = 0,
    mtime = 0;
  walkFiles(p, (_, s) => {
    n++;
    size += s.size;
    mtime = Math.max(mtime, s.mtimeMs);
  });
  return `${n}:${size}:${Math.round(mtime)}`;
}

/** Fingerprints of every entry `depth` levels under each root (shallower files count as entries). */
export function snapshot(roots: string[], exclude: string[], depth = 3): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (p: string, level: number) => {
    if (exclude.some((x) => path.resolve(p) === path.resolve(x))) return;
    const st = fs.statSync(p);
    if (st.isDirectory() && level < depth) {
      for (const e of fs.readdirSync(p)) visit(path.join(p, e), level + 1);
      return;
    }
    out[p] = fingerprint(p);
  };
  for (const r of roots) if (fs.existsSync(r)) visit(r, 1);
  return out;
}

/** Entries new or changed between two snapshots, with their final fingerprints. */
export function changed(before: Record<string, string>, after: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(after).filter(([k, v]) => before[k] !== v));
}

export const outputsIntact = (outputs: Record<string, string>): boolean =>
  Object.entries(outputs).every(([p, fp]) => fingerprint(p) === fp);

/**
 * Hash of the files under `dir` (those `keep` accepts) by relative path and content, not mtime: a checkout
 * touches every file.
 */
export function contentHash(dir: string, keep: (file: string) => boolean = () => true): string {
  const h = createHash('sha256');
  if (!fs.existsSync(dir)) return h.update('missing').digest('hex');
  const files: string[] = [];
  walkFiles(dir, (f) => {
    if (keep(f)) files.push(f);
  });
  for (const f of files.sort()) h.update(path.relative(dir, f)).update('\0').update(fs.readFileSync(f));
  return h.digest('hex');
}

/** Hash of the compiled library (any code change invalidates every stage). */
export const codeHash = (distLib: string): string => contentHash(distLib, (f) => f.endsWith('.js'));

/**
 * The version of everything a stage runs that lives outside data/ and runs/: the compiled library and the
 * project's committed models (`models/`: the demo DETR weights notebook 03 starts from, tiny-sd for notebook
 * 08). New weights re-run the stages, as new code does.
 */
export const inputsVersion = (root: string): string =>
  `${codeHash(path.join(root, 'dist', 'lib'))}:${contentHash(path.join(root, 'models'))}`;

/** Key of a stage: code, the notebook's cells (type + source; not ids or outputs), its parameters, the previous key. */
export function stageKey(code: string, nb: Notebook, parameters: Record<string, unknown>, prevKey: string): string {
  const cells = nb.cells.map((c) => [c.cell_type, sourceOf(c)]);
  return createHash('sha256')
    .update(code)
    .update(JSON.stringify(cells))
    .update(JSON.stringify(parameters))
    .update(prevKey)
    .digest('hex');
}

/** The key handed to the next stage: this stage's key and the fingerprints of what it wrote. */
export const chainKey = (key: string, outputs: Record<string, string>): string =>
  createHash('sha256')
    .update(key)
    .update(JSON.stringify(Object.entries(outputs).sort()))
    .digest('hex');
