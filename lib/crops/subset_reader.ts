/**
 * Reads a subset root (docs/data_layout.md "A subset root"): label_map.json, subset.json and the two
 * COCO-format annotation files. Only the fields the crop stages use are typed here. Malformed input is
 * a UserError naming the file and the record.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../params/user_error.js';
import { LabelMap, SubsetManifest, SPLITS, SplitName, annotationFile as annotationPath } from '../coco/subset_types.js';
import { CocoAnnotation, CocoDataset, CocoImage } from '../coco/types.js';
import { readJson } from '../io/atomic.js';

export { SPLITS };
export type Split = SplitName;
export type ImageRecord = CocoImage;
export type AnnotationRecord = CocoAnnotation;
export type CocoInstances = CocoDataset;

export interface SubsetRoot {
  root: string;
  labelMap: LabelMap;
  manifest: SubsetManifest;
  instances: Record<Split, CocoInstances>;
}

export const annotationFile = (root: string, split: Split): string => path.join(root, annotationPath(split));

function readJsonFile<T>(file: string, what: string): T {
  if (!fs.existsSync(file))
    throw new UserError(`${what} ${file} does not exist (is this a subset root written by \`detrlab subset\`?)`);
  return readJson<T>(file, `${what} written by \`detrlab subset\``);
}

export function readSubsetRoot(root: string): SubsetRoot {
  if (!fs.existsSync(root)) throw new UserError(`data root ${root} does not exist`);
  const labelMap = readJsonFile<LabelMap>(path.join(root, 'label_map.json'), 'label map');
  if (
    !Array.isArray(labelMap.classes) ||
    !Array.isArray(labelMap.categoryIds) ||
    labelMap.classes.length !== labelMap.categoryIds.length
  ) {
    throw new UserError(
      `${path.join(root, 'label_map.json')} must hold "classes" and "categoryIds" arrays of equal length`,
    );
  }
  const manifest = readJsonFile<SubsetManifest>(path.join(root, 'subset.json'), 'subset manifest');
  for (const s of SPLITS) {
    if (typeof manifest.imageDirs?.[s] !== 'string')
      throw new UserError(`${path.join(root, 'subset.json')}: imageDirs.${s} must be a path`);
  }
  const instances = {} as Record<Split, CocoInstances>;
  for (const s of SPLITS)
    instances[s] = checkInstances(
      readJsonFile<CocoInstances>(annotationFile(root, s), 'annotation file'),
      annotationFile(root, s),
    );
  return { root, labelMap, manifest, instances };
}

function checkInstances(d: CocoInstances, file: string): CocoInstances {
  for (const k of ['images', 'annotations', 'categories'] as const) {
    if (!Array.isArray(d[k])) throw new UserError(`${file}: "${k}" must be an array`);
  }
  d.annotations.forEach((a, i) => {
    const b = a.bbox;
    if (!Array.isArray(b) || b.length !== 4 || b.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
      throw new UserError(
        `${file}: annotations[${i}] (id ${a.id}) has bbox ${JSON.stringify(b)}, expected [x, y, w, h] of 4 finite numbers`,
      );
    }
  });
  return d;
}

/** `path.resolve(<subset>, subset.json.imageDirs[split], file_name)` (the contract's rule). */
export const imagePath = (s: SubsetRoot, split: Split, fileName: string): string =>
  path.resolve(s.root, s.manifest.imageDirs[split], fileName);

/** A class name as a folder name: the name itself, with path separators and NUL replaced. */
export const classDir = (name: string): string => name.replace(/[/\\\0]/g, '_');
