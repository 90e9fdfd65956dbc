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
import { CocoImage } from '../coco/types.js';

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

export interface SplitStats { images: number; annotations: number; crowdRemoved: number; degenerateDropped: number }

export interface DetectionSplit { root: string; split: string; labelMap: LabelMap; records: DetectionRecord[]; stats: SplitStats }

interface Located { annFile: string; imageDir: string; labelMap?: LabelMap }

function locate(root: string, split: string): Located {
  const subsetJson = path.join(root, 'subset.json');
  const annFile = path.join(root, annotationFile(split));
  if (!fs.existsSync(annFile)) throw new UserError(`no '${split}' annotations in ${root} (expected ${annFile}; run subset or make-demo first)`);
  if (fs.existsSync(subsetJson)) {
    const m = readJson<SubsetManifest>(subsetJson);
    if (!m.imageDirs?.[split]) throw new UserError(`${subsetJson} has no imageDirs.${split}`);
    return { annFile, imageDir: path.resolve(root, m.imageDirs[split]), labelMap: readJson<LabelMap>(path.join(root, 'label_map.json')) };
  }
  return { annFile, imageDir: path.join(root, imageDirName(split)) }; // a COCO root: every category is a class
}

type Ann = { image_id: number; category_id: number; bbox: number[]; area?: number; iscrowd?: number };

/** Reads a split. `root` is a subset root (label_map.json) or a COCO root (all categories, id order). */
export async function loadDetectionSplit(root: string, split: string): Promise<DetectionSplit> {
  const loc = locate(root, split);
  const ranges = await locateCoco(loc.annFile);
  const cats = checkCategories(await readRangeJson(loc.annFile, ranges.get('categories')!, 'categories'), loc.annFile);
  const labelMap = loc.labelMap ?? { classes: [...cats].sort((a, b) => a.id - b.id).map((c) => c.name), categoryIds: [...cats].sort((a, b) => a.id - b.id).map((c) => c.id) };
  const labelOf = new Map(labelMap.categoryIds.map((id, i) => [id, i]));
  const records: DetectionRecord[] = [];
  const byId = new Map<number, DetectionRecord>();
  await forEachItem(loc.annFile, ranges.get('images')!, loc.annFile, (x) => {
    const im = x as CocoImage;
    const r: DetectionRecord = { imageId: im.id, file: path.join(loc.imageDir, im.file_name), width: im.width, height: im.height, boxesXyxy: [], labels: [], areas: [] };
    records.push(r);
    byId.set(im.id, r);
  });
  const stats: SplitStats = { images: records.length, annotations: 0, crowdRemoved: 0, degenerateDropped: 0 };
  await forEachItem(loc.annFile, ranges.get('annotations')!, loc.annFile, (x) => {
    const a = x as Ann;
    const r = byId.get(a.image_id);
    const label = labelOf.get(a.category_id);
    if (!r || label === undefined) return; // an image or class outside this split's label map
    stats.annotations++;
    if (a.iscrowd) { stats.crowdRemoved++; return; }
    const [x0, y0, w, h] = a.bbox;
    const b: Box = [Math.min(Math.max(x0, 0), r.width), Math.min(Math.max(y0, 0), r.height), Math.min(Math.max(x0 + w, 0), r.width), Math.min(Math.max(y0 + h, 0), r.height)];
    if (!(b[2] > b[0] && b[3] > b[1])) { stats.degenerateDropped++; return; }
    r.boxesXyxy.push(b); r.labels.push(label); r.areas.push(a.area ?? w * h);
  });
  return { root, split, labelMap, records, stats };
}
