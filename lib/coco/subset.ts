/**
 * Stage `subset` (notebook 02, `detrlab subset`): a K-class subset of a COCO root, as
 * docs/data_layout.md describes — COCO-format annotation files, label_map.json (label = index,
 * categories in COCO id order), subset.json (per-class counts; image folders referenced, not copied).
 *
 *   const s = await makeSubset({ cocoRoot: 'data/coco', outRoot: 'data/coco_subset', classes: MISSION_CLASSES });
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bool, oneOf, Schema, str, strList, resolveParams } from '../params/schema.js';
import { didYouMean } from '../params/did_you_mean.js';
import { UserError } from '../params/user_error.js';
import { readJson, writeJsonAtomic } from '../io/atomic.js';
import { progress } from '../viz/progress.js';
import { CocoCategory } from './types.js';
import { MISSION_CLASSES } from './categories.js';
import { JSON_ENGINES, JsonEngine } from './json_items.js';
import { indexCoco, IndexedCoco, subsetFile } from './subset_file.js';
import { annotationFile, DatasetManifest, imageDirName, LabelMap, SubsetManifest } from './subset_types.js';
import { checkOutputDir } from '../io/output_path.js';
import type { StageOverrides } from '../params/overrides.js';

export interface SubsetParams {
  cocoRoot: string;
  outRoot: string;
  classes: string[];
  splits: string[];
  jsonEngine: JsonEngine;
  force: boolean;
  quiet: boolean;
}

export const SUBSET_SCHEMA: Schema<SubsetParams> = {
  cocoRoot: str(
    'data/demo',
    'COCO root with annotations/instances_<split>2017.json and images/<split>2017 (prepare-coco or make-demo)',
  ),
  outRoot: str('data/demo_subset', 'folder for the subset (annotation files, label_map.json, subset.json)'),
  classes: strList([...MISSION_CLASSES], 'class names to keep (COCO names; labels follow COCO category id order)'),
  splits: strList(['train', 'val'], 'splits to subset'),
  jsonEngine: oneOf(
    JSON_ENGINES,
    'split',
    'JSON streaming engine: split (byte scanner + JSON.parse per item) or stream-json',
  ),
  force: bool(false, 'rewrite even when subset.json says the subset is up to date'),
  quiet: bool(false, 'no progress bars'),
};

export interface SubsetSummary {
  outRoot: string;
  manifest: SubsetManifest;
  labelMap: LabelMap;
  skipped: boolean;
  seconds: number;
}

/** The chosen categories in COCO id order, or a UserError listing the valid names. */
export function resolveClasses(
  names: readonly string[],
  categories: readonly CocoCategory[],
  file: string,
): CocoCategory[] {
  if (names.length === 0) throw new UserError('no classes given (--classes person car …)');
  const byName = new Map(categories.map((c) => [c.name, c]));
  const unknown = names.filter((n) => !byName.has(n));
  if (unknown.length) {
    const names = [...categories].sort((a, b) => a.id - b.id).map((c) => c.name);
    const hints = unknown.map((n) => didYouMean(n, names)).filter((h) => h);
    const what = `unknown class name(s) ${unknown.map((n) => `'${n}'`).join(', ')} (not in ${file})`;
    throw new UserError(
      hints.length === unknown.length ? `${what}; ${hints.join('; ')}` : `${what}. Valid names: ${names.join(', ')}`,
    );
  }
  return [...new Set(names)].map((n) => byName.get(n)!).sort((a, b) => a.id - b.id);
}

function fingerprintOf(p: SubsetParams, sources: string[]): string {
  const files = sources.map((f) => {
    const s = fs.statSync(f);
    return [path.resolve(f), s.size, Math.round(s.mtimeMs)];
  });
  return JSON.stringify({ v: 1, classes: [...new Set(p.classes)].sort(), splits: p.splits, files });
}

function upToDate(outRoot: string, fingerprint: string, splits: string[]): SubsetManifest | undefined {
  const file = path.join(outRoot, 'subset.json');
  if (!fs.existsSync(file) || !fs.existsSync(path.join(outRoot, 'label_map.json'))) return undefined;
  const m = readJson<SubsetManifest>(file);
  const complete = splits.every((s) => fs.existsSync(path.join(outRoot, annotationFile(s))));
  return m.fingerprint === fingerprint && complete ? m : undefined;
}

function sourcesOf(p: SubsetParams): string[] {
  if (!fs.existsSync(p.cocoRoot))
    throw new UserError(`COCO root not found: ${p.cocoRoot} (run prepare-coco or make-demo first)`);
  return p.splits.map((s) => {
    const f = path.join(p.cocoRoot, annotationFile(s));
    if (!fs.existsSync(f))
      throw new UserError(`missing ${f}: the COCO root has no '${s}' annotations (prepare-coco --splits ${s})`);
    return f;
  });
}

/** Locates every split's file and checks the classes exist with the same ids in each. */
async function indexSources(
  p: SubsetParams,
  sources: string[],
): Promise<{ indexed: IndexedCoco[]; chosen: CocoCategory[] }> {
  const indexed: IndexedCoco[] = [];
  for (const f of sources) {
    const bar = progress({ label: `index ${path.basename(f)}`, unit: 'B', total: fs.statSync(f).size, quiet: p.quiet });
    indexed.push(await indexCoco(f, (n) => bar.tick(n)));
    bar.done();
  }
  const chosen = resolveClasses(p.classes, indexed[0].categories, sources[0]);
  for (const ix of indexed.slice(1)) {
    const ids = resolveClasses(p.classes, ix.categories, ix.file).map((c) => c.id);
    if (ids.join() !== chosen.map((c) => c.id).join())
      throw new UserError(`${ix.file}: category ids differ from ${sources[0]} for the chosen classes`);
  }
  return { indexed, chosen };
}

export async function makeSubset(overrides: StageOverrides<SubsetParams> = {}): Promise<SubsetSummary> {
  const t0 = Date.now();
  const p = resolveParams(SUBSET_SCHEMA, overrides);
  checkOutputDir(p.outRoot, '--out-root'); // before any input is read: a bad --out-root is refused first
  const sources = sourcesOf(p);
  const fingerprint = fingerprintOf(p, sources);
  const done = p.force ? undefined : upToDate(p.outRoot, fingerprint, p.splits);
  if (done) {
    return {
      outRoot: p.outRoot,
      manifest: done,
      labelMap: readJson<LabelMap>(path.join(p.outRoot, 'label_map.json')),
      skipped: true,
      seconds: (Date.now() - t0) / 1000,
    };
  }
  const { indexed, chosen } = await indexSources(p, sources);
  const labelMap: LabelMap = { classes: chosen.map((c) => c.name), categoryIds: chosen.map((c) => c.id) };
  const manifest: SubsetManifest = {
    cocoRoot: path.relative(p.outRoot, p.cocoRoot) || '.',
    imageDirs: {},
    classes: labelMap.classes,
    categoryIds: labelMap.categoryIds,
    counts: {},
    totals: {},
    fingerprint,
  };
  const ds = path.join(p.cocoRoot, 'dataset.json');
  if (fs.existsSync(ds)) manifest.source = readJson<DatasetManifest>(ds).source;
  for (const [i, split] of p.splits.entries()) {
    const ix = indexed[i];
    const r0 = ix.ranges.get('annotations')!,
      r1 = ix.ranges.get('images')!;
    const bar = progress({
      label: `subset ${split}`,
      unit: 'B',
      total: r0.end - r0.start + r1.end - r1.start,
      quiet: p.quiet,
    });
    const r = await subsetFile(
      ix,
      path.join(p.outRoot, annotationFile(split)),
      labelMap.categoryIds,
      p.jsonEngine,
      (n) => bar.tick(n),
    );
    bar.done({ images: r.images, annotations: r.annotations });
    if (r.images === 0)
      console.warn(
        `warning: ${sources[i]}: the chosen classes select no ${split} images; training or evaluating on this split will have nothing to work on`,
      );
    else {
      const empty = labelMap.classes.filter((c) => !r.counts[c]);
      if (empty.length) console.warn(`warning: ${sources[i]}: no ${split} annotations of ${empty.join(', ')}`);
    }
    if (r.dangling > 0)
      console.warn(
        `warning: ${sources[i]}: ${r.dangling} image id(s) referenced by annotations are missing from 'images'`,
      );
    manifest.imageDirs[split] = path.relative(p.outRoot, path.join(p.cocoRoot, imageDirName(split)));
    manifest.counts[split] = Object.fromEntries(labelMap.classes.map((c) => [c, r.counts[c]]));
    manifest.totals[split] = { images: r.images, annotations: r.annotations };
  }
  writeJsonAtomic(path.join(p.outRoot, 'label_map.json'), labelMap);
  writeJsonAtomic(path.join(p.outRoot, 'subset.json'), manifest); // last: its presence marks a complete subset
  return { outRoot: p.outRoot, manifest, labelMap, skipped: false, seconds: (Date.now() - t0) / 1000 };
}

/** label_map.json as table rows: label, class, COCO category id. */
export const labelMapRows = (m: LabelMap): Array<{ label: number; class: string; categoryId: number }> =>
  m.classes.map((c, i) => ({ label: i, class: c, categoryId: m.categoryIds[i] }));
