/**
 * Stage `prepare-coco` (notebook 01 in the coco profile, `detrlab prepare-coco --data-root data/coco --download`):
 * COCO 2017 into the layout of docs/data_layout.md —
 *   <root>/annotations/instances_{train,val}2017.json   <root>/images/{train,val}2017/   <root>/dataset.json
 * Archives go to <root>/downloads/ (resumable, size- and md5-verified against COCO_2017_ARCHIVES below), are
 * unpacked safely (lib/io/unzip.ts) and, unless `keepArchives`, deleted after unpacking. Done parts are skipped on re-runs:
 * an annotation file exists only complete (atomic per file); an image folder is complete once its
 * marker <root>/.prepare/<split>2017.done exists.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bool, num, oneOf, resolveParams, Schema, str, strList } from '../params/schema.js';
import { UserError } from '../params/user_error.js';
import { readJson, writeJsonAtomic } from '../io/atomic.js';
import { checkFreeSpace, download } from '../io/download.js';
import { unzip } from '../io/unzip.js';
import { countCocoFile } from './counts.js';
import { JSON_ENGINES, JsonEngine } from './json_items.js';
import { annotationFile, DatasetManifest, imageDirName, SPLITS } from './subset_types.js';

export interface ArchiveSpec {
  name: string;
  urlPath: string;
  bytes: number;
  md5?: string;
}

export const COCO_HOST = 'http://images.cocodataset.org';
/** md5 from PaddlePaddle/PaddleDetection `ppdet/utils/download.py`; sizes as images.cocodataset.org serves them. */
export const COCO_2017_ARCHIVES: Record<'annotations' | 'train' | 'val', ArchiveSpec> = {
  annotations: {
    name: 'annotations_trainval2017.zip',
    urlPath: '/annotations/annotations_trainval2017.zip',
    bytes: 252_907_541,
    md5: 'f4bbac642086de4f52a3fdda2de5fa2c',
  },
  train: {
    name: 'train2017.zip',
    urlPath: '/zips/train2017.zip',
    bytes: 19_336_861_798,
    md5: 'cced6f7f71b7629ddf16f17bbcfab6b2',
  },
  val: {
    name: 'val2017.zip',
    urlPath: '/zips/val2017.zip',
    bytes: 815_585_330,
    md5: '442b8da7639aecaf257c1dceb8ba8c80',
  },
};

export interface PrepareParams {
  dataRoot: string;
  download: boolean;
  splits: string[];
  annotationsOnly: boolean;
  mirror: string;
  keepArchives: boolean;
  minFreeGb: number;
  jsonEngine: JsonEngine;
  quiet: boolean;
}

export const PREPARE_SCHEMA: Schema<PrepareParams> = {
  dataRoot: str('data/coco', 'COCO root to fill (annotations/, images/, dataset.json)'),
  download: bool(false, 'download missing parts (without it, only check what is there)'),
  splits: strList(['train', 'val'], 'splits: train, val'),
  annotationsOnly: bool(false, 'only the annotation files (252 MB archive), no images'),
  mirror: str('', `base URL replacing ${COCO_HOST} (mirrors, proxies, tests)`),
  keepArchives: bool(false, 'keep the zip archives after unpacking (in <data-root>/downloads)'),
  minFreeGb: num(2, 'disk space (GB) that must stay free after downloading and unpacking', { min: 0 }),
  jsonEngine: oneOf(JSON_ENGINES, 'split', 'JSON streaming engine for counting'),
  quiet: bool(false, 'no progress bars'),
};

/** Test seams: another archive table (generated archives), download retries. */
export interface PrepareDeps {
  archives?: Partial<Record<'annotations' | 'train' | 'val', ArchiveSpec>>;
  retries?: number;
}

export interface PrepareSummary {
  root: string;
  manifest: DatasetManifest;
  actions: string[];
  seconds: number;
}

const GB = 1e9;
const doneMarker = (root: string, split: string) => path.join(root, '.prepare', `${split}2017.done`);

interface Ctx {
  p: PrepareParams;
  deps: PrepareDeps;
  actions: string[];
}

const specOf = (c: Ctx, k: 'annotations' | 'train' | 'val'): ArchiveSpec =>
  c.deps.archives?.[k] ?? COCO_2017_ARCHIVES[k];
const urlOf = (c: Ctx, s: ArchiveSpec) => (c.p.mirror || COCO_HOST).replace(/\/+$/, '') + s.urlPath;

async function fetchArchive(c: Ctx, s: ArchiveSpec): Promise<string> {
  const dest = path.join(c.p.dataRoot, 'downloads', s.name);
  const r = await download({
    url: urlOf(c, s),
    dest,
    expectedSize: s.bytes,
    md5: s.md5,
    label: s.name,
    minFreeBytes: c.p.minFreeGb * GB,
    retries: c.deps.retries,
    quiet: c.p.quiet,
  });
  c.actions.push(
    r.skipped
      ? `${s.name}: already downloaded`
      : `${s.name}: downloaded ${(r.bytes / 1e6).toFixed(1)} MB${r.resumed ? ' (resumed)' : ''}`,
  );
  return r.path;
}

function dropArchive(c: Ctx, zip: string): void {
  if (!c.p.keepArchives) fs.rmSync(zip, { force: true });
}

function missingHint(c: Ctx, what: string, s: ArchiveSpec): UserError {
  return new UserError(
    `${what} is missing: run \`detrlab prepare-coco --data-root ${c.p.dataRoot} --download\` ` +
      `(${s.name}, ${(s.bytes / GB).toFixed(2)} GB) or put COCO 2017 there in the layout of docs/data_layout.md`,
  );
}

async function ensureAnnotations(c: Ctx): Promise<void> {
  const wanted = c.p.splits.map((s) => annotationFile(s));
  const missing = wanted.filter((f) => !fs.existsSync(path.join(c.p.dataRoot, f)));
  if (missing.length === 0) {
    c.actions.push('annotations: present');
    return;
  }
  const spec = specOf(c, 'annotations');
  if (!c.p.download) throw missingHint(c, path.join(c.p.dataRoot, missing[0]), spec);
  const zip = await fetchArchive(c, spec);
  await unzip({
    zip,
    dest: c.p.dataRoot,
    filter: (n) => missing.includes(n),
    minFreeBytes: c.p.minFreeGb * GB,
    quiet: c.p.quiet,
  });
  const still = missing.filter((f) => !fs.existsSync(path.join(c.p.dataRoot, f)));
  if (still.length) throw new UserError(`${spec.name} does not contain ${still.join(', ')}`);
  c.actions.push(`annotations: unpacked ${missing.join(', ')}`);
  dropArchive(c, zip);
}

async function ensureImages(c: Ctx, split: 'train' | 'val'): Promise<void> {
  if (fs.existsSync(doneMarker(c.p.dataRoot, split))) {
    c.actions.push(`${split} images: present`);
    return;
  }
  const spec = specOf(c, split);
  if (!c.p.download) throw missingHint(c, path.join(c.p.dataRoot, imageDirName(split)), spec);
  const zip = await fetchArchive(c, spec);
  const r = await unzip({
    zip,
    dest: path.join(c.p.dataRoot, 'images'),
    minFreeBytes: c.p.minFreeGb * GB,
    quiet: c.p.quiet,
  });
  writeJsonAtomic(doneMarker(c.p.dataRoot, split), {
    archive: spec.name,
    bytes: spec.bytes,
    md5: spec.md5,
    files: r.files,
  });
  c.actions.push(`${split} images: unpacked ${r.files} files`);
  dropArchive(c, zip);
}

/** Up-front disk check for everything still to download and unpack (archive + its contents ≈ 2×). */
function checkDiskPlan(c: Ctx, splits: Array<'train' | 'val'>): void {
  if (!c.p.download) return;
  let need = 0;
  const partOf = (s: ArchiveSpec) => {
    const f = path.join(c.p.dataRoot, 'downloads', s.name);
    return fs.existsSync(f) ? s.bytes : fs.existsSync(f + '.part') ? fs.statSync(f + '.part').size : 0;
  };
  for (const k of splits)
    if (!fs.existsSync(doneMarker(c.p.dataRoot, k))) need += 2 * specOf(c, k).bytes - partOf(specOf(c, k));
  if (c.p.splits.some((s) => !fs.existsSync(path.join(c.p.dataRoot, annotationFile(s)))))
    need += specOf(c, 'annotations').bytes * 3;
  if (need > 0)
    checkFreeSpace(c.p.dataRoot, need, c.p.minFreeGb * GB, `COCO 2017 (${splits.join(', ') || 'annotations'})`);
}

async function writeManifest(c: Ctx): Promise<DatasetManifest> {
  const file = path.join(c.p.dataRoot, 'dataset.json');
  const fingerprint = c.p.splits
    .map((s) => {
      const st = fs.statSync(path.join(c.p.dataRoot, annotationFile(s)));
      return `${s}:${st.size}:${Math.round(st.mtimeMs)}`;
    })
    .join(',');
  const images = Object.fromEntries(c.p.splits.map((s) => [s, fs.existsSync(doneMarker(c.p.dataRoot, s))]));
  if (fs.existsSync(file)) {
    const old = readJson<DatasetManifest>(file);
    if (old.fingerprint === fingerprint && JSON.stringify(old.imagesPresent) === JSON.stringify(images)) return old;
  }
  const m: DatasetManifest = {
    source: 'coco2017',
    splits: c.p.splits,
    categories: [],
    counts: {},
    totals: {},
    fingerprint,
    imagesPresent: images,
    archives: Object.fromEntries(
      (['annotations', ...c.p.splits] as Array<'annotations' | 'train' | 'val'>).map((k) => [
        k,
        { ...specOf(c, k), url: urlOf(c, specOf(c, k)) },
      ]),
    ),
  };
  for (const s of c.p.splits) {
    const r = await countCocoFile(path.join(c.p.dataRoot, annotationFile(s)), c.p.jsonEngine);
    m.categories = r.categories.map((k) => ({ id: k.id, name: k.name }));
    m.counts[s] = r.counts;
    m.totals[s] = { images: r.images, annotations: r.annotations };
  }
  writeJsonAtomic(file, m);
  return m;
}

export async function prepareCoco(
  overrides: Partial<PrepareParams> = {},
  deps: PrepareDeps = {},
): Promise<PrepareSummary> {
  const t0 = Date.now();
  const p = resolveParams(PREPARE_SCHEMA, overrides);
  const bad = p.splits.filter((s) => !SPLITS.includes(s as 'train'));
  if (bad.length || p.splits.length === 0)
    throw new UserError(`--splits must be train and/or val, got ${p.splits.join(',') || '(none)'}`);
  const c: Ctx = { p, deps, actions: [] };
  const imageSplits = p.annotationsOnly ? [] : (p.splits as Array<'train' | 'val'>);
  checkDiskPlan(c, imageSplits);
  await ensureAnnotations(c);
  for (const s of imageSplits) await ensureImages(c, s);
  const manifest = await writeManifest(c);
  return { root: p.dataRoot, manifest, actions: c.actions, seconds: (Date.now() - t0) / 1000 };
}
