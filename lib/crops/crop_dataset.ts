/**
 * The crop-classification dataset (docs/data_layout.md "Crops"): every non-crowd GT box of the subset's
 * classes with both sides ≥ minSize becomes a square crop (box + margin of context, edge-replicated where
 * the square leaves the image) resized to size×size; train crops from train2017, val from val2017.
 * Resumable: crops already on disk are kept; manifest.jsonl and classes.json are rewritten atomically.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { Rng, seedFrom } from '../engine/rng.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { int, num, resolveParams, Schema, str } from '../params/schema.js';
import { UserError } from '../params/user_error.js';
import { progress } from '../viz/progress.js';
import { clipRegion, isCroppable, squareRegion } from './crop_geometry.js';
import { rareClassTable } from './rare_classes.js';
import {
  AnnotationRecord,
  classDir,
  ImageRecord,
  imagePath,
  readSubsetRoot,
  Split,
  SPLITS,
  SubsetRoot,
} from './subset_reader.js';
import { readJsonFile } from '../io/json_file.js';
import type { StageOverrides } from '../params/overrides.js';

export interface CropsParams {
  dataRoot: string;
  out: string;
  k: number;
  minSize: number;
  margin: number;
  size: number;
  maxPerClass: number;
  seed: number;
}

export const CROPS_SCHEMA: Schema<CropsParams> = {
  dataRoot: str('data/demo_subset', 'subset root (label_map.json, subset.json, annotations/)'),
  out: str('data/crops', 'output folder (manifest.jsonl, classes.json, {train,val}/<class>/<annotationId>.png)'),
  k: int(3, 'how many of the rarest classes (by train crops) classes.json marks as rare', { min: 1 }),
  minSize: int(8, 'smallest box side in pixels (COCO profile: 32)', { min: 1 }),
  margin: num(0.1, 'context around the box, as a fraction of its longer side, on each side', { min: 0, max: 2 }),
  size: int(64, 'square side of the saved crops in pixels (COCO profile: 224)', { min: 8, max: 2048 }),
  maxPerClass: int(0, 'at most this many crops per class and split, chosen at random with the seed (0 = all)', {
    min: 0,
  }),
  seed: int(0, 'seed for the per-class cap'),
};

export interface CropRecord {
  file: string;
  split: Split;
  class: string;
  label: number;
  imageId: number;
  annotationId: number;
  bboxXywh: [number, number, number, number];
  source: string;
  cropXywh: [number, number, number, number];
}
export interface ClassesJson {
  classes: string[];
  rare: string[];
  counts: Record<Split, Record<string, number>>;
  params: Omit<CropsParams, 'out' | 'dataRoot'>;
}

/** The crops to make, per split, in annotation-id order within each image (capped per class when asked). */
export function planCrops(s: SubsetRoot, p: CropsParams): CropRecord[] {
  const labelOf = new Map(s.labelMap.categoryIds.map((id, label) => [id, label]));
  const out: CropRecord[] = [];
  for (const split of SPLITS) {
    const images = new Map(s.instances[split].images.map((im) => [im.id, im]));
    const byClass = new Map<number, AnnotationRecord[]>();
    for (const a of s.instances[split].annotations) {
      if (labelOf.has(a.category_id) && images.has(a.image_id) && isCroppable(a, p.minSize)) {
        if (!byClass.has(a.category_id)) byClass.set(a.category_id, []);
        byClass.get(a.category_id)!.push(a);
      }
    }
    for (const [cat, anns] of byClass) {
      const label = labelOf.get(cat)!;
      const name = s.labelMap.classes[label];
      const chosen =
        p.maxPerClass > 0 && anns.length > p.maxPerClass
          ? new Rng(seedFrom('crops', p.seed, split, name)).shuffle([...anns]).slice(0, p.maxPerClass)
          : anns;
      for (const a of chosen) out.push(cropRecord(s, split, a, images.get(a.image_id)!, label, name, p.margin));
    }
  }
  return out.sort(
    (a, b) =>
      SPLITS.indexOf(a.split) - SPLITS.indexOf(b.split) || a.imageId - b.imageId || a.annotationId - b.annotationId,
  );
}

function cropRecord(
  s: SubsetRoot,
  split: Split,
  a: AnnotationRecord,
  im: ImageRecord,
  label: number,
  name: string,
  margin: number,
): CropRecord {
  const [left, top, side] = squareRegion(a.bbox, margin);
  const abs = imagePath(s, split, im.file_name);
  const rel = path.relative(process.cwd(), abs);
  return {
    file: `${split}/${classDir(name)}/${a.id}.png`,
    split,
    class: name,
    label,
    imageId: a.image_id,
    annotationId: a.id,
    bboxXywh: a.bbox,
    source: rel.startsWith('..') ? abs : rel,
    cropXywh: [left, top, side, side],
  };
}

/** Cuts the crops of one image from its decoded pixels. */
async function writeImageCrops(src: string, recs: CropRecord[], outDir: string, size: number): Promise<void> {
  if (!fs.existsSync(src))
    throw new UserError(
      `image ${src} (listed in the subset's annotations) does not exist; check subset.json imageDirs`,
    );
  const { data, info } = await sharp(src)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch((e: Error) => {
      throw new UserError(`cannot decode image ${src}: ${e.message}`);
    });
  for (const r of recs) {
    const { extract, pad } = clipRegion([r.cropXywh[0], r.cropXywh[1], r.cropXywh[2]], info.width, info.height);
    if (extract.width === 0 || extract.height === 0) continue;
    // two pipelines: sharp applies extend after resize within one, which would pad the resized crop
    const side = r.cropXywh[2];
    const square = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
      .extract(extract)
      .extend({ ...pad, extendWith: 'copy' })
      .raw()
      .toBuffer();
    const png = await sharp(square, { raw: { width: side, height: side, channels: info.channels } })
      .resize(size, size)
      .png()
      .toBuffer();
    writeFileAtomic(path.join(outDir, r.file), png);
  }
}

/** Stage function shared by `detrlab crops` and notebook 07. */
export async function buildCrops(
  p: StageOverrides<CropsParams> = {},
): Promise<{ records: CropRecord[]; classes: ClassesJson; written: number; skipped: number }> {
  const q = resolveParams(CROPS_SCHEMA, p);
  const s = readSubsetRoot(q.dataRoot);
  checkSameGeometry(q);
  const records = planCrops(s, q);
  const todo = records.filter((r) => !fs.existsSync(path.join(q.out, r.file)));
  const byImage = new Map<string, CropRecord[]>();
  for (const r of todo) {
    if (!byImage.has(r.source)) byImage.set(r.source, []);
    byImage.get(r.source)!.push(r);
  }
  const bar = progress({ total: todo.length, label: 'crops', unit: 'crop' });
  for (const [src, recs] of byImage) {
    await writeImageCrops(src, recs, q.out, q.size);
    bar.tick(recs.length);
  }
  bar.done();
  const kept = records.filter((r) => fs.existsSync(path.join(q.out, r.file)));
  writeFileAtomic(
    path.join(q.out, 'manifest.jsonl'),
    kept.map((r) => JSON.stringify(r)).join('\n') + (kept.length ? '\n' : ''),
  );
  const classes = classesJson(s, kept, q);
  writeJsonAtomic(path.join(q.out, 'classes.json'), classes);
  return { records: kept, classes, written: todo.length, skipped: records.length - todo.length };
}

function classesJson(s: SubsetRoot, kept: CropRecord[], q: CropsParams): ClassesJson {
  const counts = { train: {} as Record<string, number>, val: {} as Record<string, number> };
  for (const c of s.labelMap.classes) {
    counts.train[c] = 0;
    counts.val[c] = 0;
  }
  for (const r of kept) counts[r.split][r.class]++;
  const { rare } = rareClassTable(s, q.k, q.minSize);
  const { out: _o, dataRoot: _d, ...params } = q;
  return { classes: s.labelMap.classes, rare, counts, params };
}

/** Resuming into a folder made with another size/margin/minSize would mix two datasets: refuse. */
function checkSameGeometry(q: CropsParams): void {
  const file = path.join(q.out, 'classes.json');
  if (!fs.existsSync(file)) return;
  const old = readJsonFile<Partial<ClassesJson>>(file, { what: 'written by `detrlab crops`' }).params;
  const keys = ['size', 'margin', 'minSize'] as const;
  const diff = old ? keys.filter((k) => old[k] !== q[k]) : [];
  if (diff.length) {
    throw new UserError(
      `${q.out} holds crops made with ${diff.map((k) => `${k}=${old![k]}`).join(', ')}; now ${diff.map((k) => `${k}=${q[k]}`).join(', ')}. Use another --out or delete ${q.out}`,
    );
  }
}
