/**
 * A grid of sample images of a COCO root or subset root with their annotated boxes drawn (crowd regions
 * dashed), for notebooks 01 and 02. Images are picked with a seeded Rng; the annotation file is streamed.
 *
 *   await show(await sampleGrid('data/demo', { split: 'val', count: 12 }));
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../engine/rng.js';
import { readJson } from '../io/atomic.js';
import { classColor, drawBoxes, OverlayBox } from '../viz/overlay.js';
import { contactSheet } from '../viz/contact_sheet.js';
import { UserError } from '../params/user_error.js';
import { CocoAnnotation, CocoImage } from './types.js';
import { checkCategories } from './counts.js';
import { forEachItem, locateCoco, readRangeJson } from './json_items.js';
import { annotationFile, imageDirName, SubsetManifest } from './subset_types.js';

export interface SampleGridOptions {
  split?: string;
  count?: number;
  seed?: number;
  columns?: number;
  cellWidth?: number;
}

/** The image folder of a split: from subset.json in a subset root, else <root>/images/<split>2017. */
export function imageDirOf(root: string, split: string): string {
  const m = path.join(root, 'subset.json');
  return fs.existsSync(m)
    ? path.resolve(root, readJson<SubsetManifest>(m).imageDirs[split])
    : path.join(root, imageDirName(split));
}

export async function sampleGrid(root: string, o: SampleGridOptions = {}): Promise<Buffer> {
  const split = o.split ?? 'val';
  const file = path.join(root, annotationFile(split));
  if (!fs.existsSync(file)) throw new UserError(`no ${split} annotations under ${root}`);
  const ranges = await locateCoco(file);
  const cats = checkCategories(await readRangeJson(file, ranges.get('categories')!, 'categories'), file).sort(
    (a, b) => a.id - b.id,
  );
  const images: CocoImage[] = [];
  await forEachItem(file, ranges.get('images')!, file, (im) => {
    images.push(im as CocoImage);
  });
  const picked = new Rng(o.seed ?? 0).shuffle([...images]).slice(0, o.count ?? 12);
  const boxes = new Map<number, OverlayBox[]>(picked.map((im) => [im.id, []]));
  await forEachItem(file, ranges.get('annotations')!, file, (x) => {
    const a = x as CocoAnnotation;
    const list = boxes.get(a.image_id);
    const label = cats.findIndex((c) => c.id === a.category_id);
    if (list)
      list.push({
        bboxXywh: a.bbox,
        color: classColor(label),
        text: cats[label]?.name ?? String(a.category_id),
        dashed: a.iscrowd === 1,
      });
  });
  const dir = imageDirOf(root, split);
  const cells = await Promise.all(
    picked.map(async (im) => ({
      image: await drawBoxes(path.join(dir, im.file_name), boxes.get(im.id)!, { maxSide: 320, fontSize: 11 }),
      caption: `${im.file_name} · ${boxes.get(im.id)!.length} boxes`,
    })),
  );
  return contactSheet(cells, {
    columns: o.columns ?? 4,
    cellWidth: o.cellWidth ?? 240,
    title: `${split}: ${picked.length} of ${images.length} images (dashed = crowd)`,
  });
}
