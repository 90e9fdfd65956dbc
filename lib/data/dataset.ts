/**
 * A split of a subset root (or of a whole COCO root) as compact records: image path and size, and the
 * training targets of DETR's `ConvertCocoPolysToMask` (facebookresearch/detr `datasets/coco.py`):
 * crowd regions removed, xywh → xyxy clipped to the image, boxes with no width or height dropped,
 * `category_id` → contiguous label through label_map.json. Crowd removals and dropped degenerate boxes
 * are counted. The annotation file is streamed (lib/coco/json_items.ts); segmentations are not kept.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Box } from '../box/box_ops.js';
import { UserError } from '../params/user_error.js';
import { readJson } from '../io/atomic.js';
import { forEachItem, locateCoco, readRangeJson } from '../coco/json_items.js';
import { checkCategories } from '../coco/counts.js';
import { annotationFile, imageDirName, LabelMap, SubsetManifest } from '../coco/subset_types.js';
import { CocoImage, checkBoxXywh, checkFiniteNumber } from '../coco/types.js';

export interface DetectionRecord {
  imageId: number;
  file: string;
  width: number;
  height: number;
  boxesXyxy: Box[];
  labels: number[];
  /** COCO `area` of each kept annotation. */
  areas: number[];
}

export interface SplitStats {
  images: number;
  annotations: number;
  crowdRemoved: number;
  degenerateDropped: number;
}

export interface DetectionSplit {
  root: string;
  split: string;
  labelMap: LabelMap;
  records: DetectionRecord[];
  stats: SplitStats;
}

interface Located {
  annFile: string;
  imageDir: string;
  labelMap?: LabelMap;
}

function locate(root: string, split: string): Located {
  const subsetJson = path.join(root, 'subset.json');
  const annFile = path.join(root, annotationFile(split));
  if (!fs.existsSync(annFile))
    throw new UserError(`no '${split}' annotations in ${root} (expected ${annFile}; run subset or make-demo first)`);
  if (fs.existsSync(subsetJson)) {
    const m = readJson<SubsetManifest>(subsetJson);
    if (typeof m.imageDirs?.[split] !== 'string')
      throw new UserError(`${subsetJson} has no imageDirs.${split} (a folder name); rerun \`detrlab subset\``);
    return {
      annFile,
      imageDir: path.resolve(root, m.imageDirs[split]),
      labelMap: readLabelMap(path.join(root, 'label_map.json')),
    };
  }
  return { annFile, imageDir: path.join(root, imageDirName(split)) }; // a COCO root: every category is a class
}

/** label_map.json: `classes` (names) and `categoryIds` (COCO ids), one per label, same length. */
export function readLabelMap(file: string): LabelMap {
  const m = readJson<LabelMap>(file, 'written by `detrlab subset`');
  const ok =
    Array.isArray(m.classes) &&
    Array.isArray(m.categoryIds) &&
    m.classes.length === m.categoryIds.length &&
    m.classes.length > 0 &&
    m.classes.every((c) => typeof c === 'string') &&
    m.categoryIds.every((c) => Number.isInteger(c));
  if (!ok)
    throw new UserError(
      `${file} must hold "classes" (names) and "categoryIds" (integers) of the same, non-zero length; rerun \`detrlab subset\``,
    );
  return m;
}

type Ann = { image_id: number; category_id: number; bbox: number[]; area?: number; iscrowd?: number };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The checks `coco-eval` makes on ground truth (lib/coco/types.ts `validateDataset`), applied while
 * streaming: numeric ids, a 4-finite-number `bbox`, a numeric `area` if present. A bad record is refused
 * with a UserError naming the file and the record, as coco-eval does, rather than skipped.
 */
function checkAnnotation(x: unknown, at: string): Ann {
  if (!isObject(x)) throw new UserError(`${at} must be an object`);
  for (const f of ['image_id', 'category_id']) checkFiniteNumber(x[f], `${at}.${f}`);
  checkBoxXywh(x.bbox, `${at}.bbox`);
  if (x.area !== undefined) checkFiniteNumber(x.area, `${at}.area`);
  return x as unknown as Ann;
}

/** An image record needs a numeric id, a file name and a positive width and height. */
function checkImage(x: unknown, at: string): CocoImage {
  if (!isObject(x)) throw new UserError(`${at} must be an object`);
  checkFiniteNumber(x.id, `${at}.id`);
  if (typeof x.file_name !== 'string' || !x.file_name)
    throw new UserError(`${at}.file_name must be a file name, got ${JSON.stringify(x.file_name)}`);
  for (const f of ['width', 'height'])
    if (checkFiniteNumber(x[f], `${at}.${f}`) <= 0) throw new UserError(`${at}.${f} must be positive, got ${x[f]}`);
  return x as unknown as CocoImage;
}

/** Reads a split. `root` is a subset root (label_map.json) or a COCO root (all categories, id order). */
export async function loadDetectionSplit(root: string, split: string): Promise<DetectionSplit> {
  const loc = locate(root, split);
  const ranges = await locateCoco(loc.annFile);
  const cats = checkCategories(await readRangeJson(loc.annFile, ranges.get('categories')!, 'categories'), loc.annFile);
  const labelMap = loc.labelMap ?? {
    classes: [...cats].sort((a, b) => a.id - b.id).map((c) => c.name),
    categoryIds: [...cats].sort((a, b) => a.id - b.id).map((c) => c.id),
  };
  const labelOf = new Map(labelMap.categoryIds.map((id, i) => [id, i]));
  const records: DetectionRecord[] = [];
  const byId = new Map<number, DetectionRecord>();
  await forEachItem(loc.annFile, ranges.get('images')!, loc.annFile, (x, i) => {
    const im = checkImage(x, `${loc.annFile}: images[${i}]`);
    const r: DetectionRecord = {
      imageId: im.id,
      file: path.join(loc.imageDir, im.file_name),
      width: im.width,
      height: im.height,
      boxesXyxy: [],
      labels: [],
      areas: [],
    };
    records.push(r);
    byId.set(im.id, r);
  });
  const stats: SplitStats = { images: records.length, annotations: 0, crowdRemoved: 0, degenerateDropped: 0 };
  const unmapped = new Map<number, number>();
  await forEachItem(loc.annFile, ranges.get('annotations')!, loc.annFile, (x, i) => {
    const a = checkAnnotation(x, `${loc.annFile}: annotations[${i}]`);
    const r = byId.get(a.image_id);
    const label = labelOf.get(a.category_id);
    if (r && label === undefined) unmapped.set(a.category_id, (unmapped.get(a.category_id) ?? 0) + 1);
    if (!r || label === undefined) return; // an image or class outside this split's label map
    stats.annotations++;
    if (a.iscrowd) {
      stats.crowdRemoved++;
      return;
    }
    const [x0, y0, w, h] = a.bbox;
    const b: Box = [
      Math.min(Math.max(x0, 0), r.width),
      Math.min(Math.max(y0, 0), r.height),
      Math.min(Math.max(x0 + w, 0), r.width),
      Math.min(Math.max(y0 + h, 0), r.height),
    ];
    if (!(b[2] > b[0] && b[3] > b[1])) {
      stats.degenerateDropped++;
      return;
    }
    r.boxesXyxy.push(b);
    r.labels.push(label);
    r.areas.push(a.area ?? w * h);
  });
  if (loc.labelMap)
    warnLabelMapMismatch(
      loc.annFile,
      labelMap,
      cats.map((c) => c.id),
      unmapped,
    );
  return { root, split, labelMap, records, stats };
}

/** A subset root whose label_map.json and annotation file disagree trains on less than it says: warn. */
function warnLabelMapMismatch(
  annFile: string,
  labelMap: LabelMap,
  fileCats: number[],
  unmapped: Map<number, number>,
): void {
  const known = new Set(fileCats);
  const absent = labelMap.categoryIds.filter((id) => !known.has(id));
  if (absent.length) {
    console.warn(
      `warning: label_map.json lists categories ${absent.map((id) => `${id} (${labelMap.classes[labelMap.categoryIds.indexOf(id)]})`).join(', ')} that ${annFile} does not define; those classes have no boxes`,
    );
  }
  if (unmapped.size) {
    const n = [...unmapped.values()].reduce((a, b) => a + b, 0);
    console.warn(
      `warning: ${n} annotations in ${annFile} have categories missing from label_map.json (ids ${[...unmapped.keys()].slice(0, 10).join(', ')}); they are ignored`,
    );
  }
}
