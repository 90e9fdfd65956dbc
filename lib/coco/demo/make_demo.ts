/**
 * Stage `make-demo` (notebook 01 in the demo profile, `detrlab make-demo --out data/demo`): the embedded,
 * procedurally rendered COCO-format dataset. Same layout as prepare-coco (docs/data_layout.md), so the
 * subset and loader code is exactly the code that reads COCO.
 *
 * Defaults: 2,000 train + 400 val JPEG images (quality 90), sizes 128×128, 160×128, 128×160, 144×112,
 * 112×144 or 160×120; 20 classes (demo/classes.ts: the 10 mission classes plus 10 more, COCO names and
 * ids, long-tailed); 1–4 objects per image, figures 1.7× the base size range (median box √area 42 px at
 * the model's 128 px, 29 % under 32 px: the layout DETR learns, models/detr-demo/README.md); a crowd region
 * (iscrowd=1) in ~4 % of images; occluders in ~25 %. The older, denser layout is `--max-objects 8
 * --object-scale 1 --crowd-prob 0.06 --occluder-prob 0.35`. Boxes are the exact extent of each
 * figure clipped to the image (to 0.01 px); segmentation is the box polygon (an RLE box for crowds);
 * `area` is the box area. Deterministic from `seed`: the same seed gives byte-identical files.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { Rng, seedFrom } from '../../engine/rng.js';
import { bool, int, num, resolveParams, Schema, str } from '../../params/schema.js';
import { readJson, writeJsonAtomic } from '../../io/atomic.js';
import { progress } from '../../viz/progress.js';
import { COCO_CATEGORIES } from '../categories.js';
import { countCocoFile } from '../counts.js';
import { boxRle } from '../box_rle.js';
import { CocoAnnotation, CocoDataset, CocoImage } from '../types.js';
import { annotationFile, DatasetManifest, imageDirName, SPLITS } from '../subset_types.js';
import { DEMO_CLASSES } from './classes.js';
import { composeScene, Scene } from './scene.js';
import { checkOutputDir } from '../../io/output_path.js';
import { UserError } from '../../params/user_error.js';

export interface DemoParams {
  out: string;
  seed: number;
  trainImages: number;
  valImages: number;
  /** > 0: this many images in each split (tiny CI datasets); 0: trainImages / valImages. */
  imagesPerSplit: number;
  concurrency: number;
  force: boolean;
  quiet: boolean;
  /** Scene layout: objects per image at most, figure size factor, crowd and occluder chances. */
  maxObjects: number;
  objectScale: number;
  crowdProb: number;
  occluderProb: number;
}

export const DEMO_SCHEMA: Schema<DemoParams> = {
  out: str('data/demo', 'output COCO root (annotations/, images/, dataset.json)'),
  seed: int(0, 'generator seed (same seed → identical files)', { min: 0 }),
  trainImages: int(2000, 'train images', { min: 1 }),
  valImages: int(400, 'val images', { min: 1 }),
  imagesPerSplit: int(0, 'if > 0, images per split for both splits (overrides train/val counts; for CI)', { min: 0 }),
  concurrency: int(Math.max(2, os.cpus().length), 'images rendered concurrently (sharp/librsvg)', { min: 1, max: 64 }),
  force: bool(false, 'regenerate even if the folder holds the same dataset'),
  quiet: bool(false, 'no progress bars'),
  maxObjects: int(4, 'objects per image at most (1–8; fewer objects are more likely)', { min: 1, max: 8 }),
  objectScale: num(1.7, "multiplies every class's figure size range (capped at 90 % of the image side)", {
    min: 0.25,
    max: 4,
  }),
  crowdProb: num(0.04, 'chance of a crowd region (iscrowd=1) in an image', { min: 0, max: 1 }),
  occluderProb: num(0.25, 'chance of 1–2 unannotated occluders in an image', { min: 0, max: 1 }),
};

export const DEMO_VERSION = 1;
export const DEMO_SIZES: ReadonlyArray<[number, number]> = [
  [128, 128],
  [160, 128],
  [128, 160],
  [144, 112],
  [112, 144],
  [160, 120],
];
const JPEG_QUALITY = 90;

export interface DemoSummary {
  out: string;
  manifest: DatasetManifest;
  skipped: boolean;
  seconds: number;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

function annotationsOf(scene: Scene, imageId: number, nextId: () => number): CocoAnnotation[] {
  return scene.objects.map((o) => {
    const [x0, y0, x1, y1] = o.boxXyxy.map(r2);
    const [w, h] = [r2(x1 - x0), r2(y1 - y0)];
    const segmentation = o.iscrowd
      ? boxRle(Math.floor(x0), Math.floor(y0), Math.ceil(x1), Math.ceil(y1), scene.width, scene.height)
      : [[x0, y0, x1, y0, x1, y1, x0, y1]];
    return {
      id: nextId(),
      image_id: imageId,
      category_id: o.categoryId,
      bbox: [x0, y0, w, h],
      area: r2(w * h),
      iscrowd: o.iscrowd ? 1 : 0,
      segmentation,
    };
  });
}

/** Renders one image of a split; pure function of (seed, split, index). */
export type DemoLayout = Pick<DemoParams, 'maxObjects' | 'objectScale' | 'crowdProb' | 'occluderProb'>;

export function demoScene(seed: number, split: string, index: number, layout?: DemoLayout): Scene {
  const rng = new Rng(seedFrom('detrlab-demo', DEMO_VERSION, seed, split, index));
  const [width, height] = rng.pick(DEMO_SIZES);
  return composeScene(rng, { width, height, ...layout });
}

async function renderSplit(
  p: DemoParams,
  split: string,
  n: number,
  firstId: number,
  dir: string,
): Promise<CocoDataset> {
  const images: CocoImage[] = new Array(n);
  const scenes: Scene[] = new Array(n);
  const bar = progress({ label: `render ${split}`, unit: 'img', total: n, quiet: p.quiet });
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const scene = demoScene(p.seed, split, i, p);
      const id = firstId + i;
      const file_name = `${String(id).padStart(12, '0')}.jpg`;
      const jpg = await sharp(Buffer.from(scene.svg)).jpeg({ quality: JPEG_QUALITY }).toBuffer();
      await fs.promises.writeFile(path.join(dir, imageDirName(split), file_name), jpg);
      images[i] = { id, file_name, width: scene.width, height: scene.height, license: 1 };
      scenes[i] = scene;
      bar.tick();
    }
  };
  await Promise.all(Array.from({ length: Math.min(p.concurrency, n) }, worker));
  bar.done();
  let annId = 0;
  const annotations = scenes.flatMap((s, i) => annotationsOf(s, images[i].id, () => ++annId));
  const used = new Set(DEMO_CLASSES.map((c) => c.categoryId));
  return {
    info: {
      description: 'detrlab demo dataset: procedurally rendered figures (COCO format)',
      version: String(DEMO_VERSION),
      year: 2026,
      contributor: 'detrlab make-demo',
    },
    licenses: [{ id: 1, name: 'generated by detrlab (no third-party content)', url: '' }],
    categories: COCO_CATEGORIES.filter((c) => used.has(c.id)),
    images,
    annotations,
  } as CocoDataset;
}

const settingsOf = (p: DemoParams, counts: Record<string, number>) => ({
  version: DEMO_VERSION,
  seed: p.seed,
  images: counts,
  jpegQuality: JPEG_QUALITY,
  layout: {
    maxObjects: p.maxObjects,
    objectScale: p.objectScale,
    crowdProb: p.crowdProb,
    occluderProb: p.occluderProb,
  },
});

/**
 * make-demo replaces its --out folder as a whole; it must never remove a file or a folder it did not make
 * (`--out data` or `--out runs` by mistake): only a missing or empty folder, or an earlier demo.
 */
function checkReplaceable(out: string): void {
  checkOutputDir(out, '--out');
  if (!fs.existsSync(out) || fs.readdirSync(out).length === 0) return;
  const ds = path.join(out, 'dataset.json');
  const isDemo =
    fs.existsSync(ds) && readJson<Partial<DatasetManifest>>(ds, 'written by `detrlab make-demo`').source === 'demo';
  if (!isDemo)
    throw new UserError(
      `--out ${out} holds files that make-demo did not write (no demo dataset.json); make-demo replaces its folder as a whole, so give a new or empty folder`,
    );
}

export async function makeDemo(overrides: Partial<DemoParams> = {}): Promise<DemoSummary> {
  const t0 = Date.now();
  const p = resolveParams(DEMO_SCHEMA, overrides);
  const n: Record<string, number> = { train: p.imagesPerSplit || p.trainImages, val: p.imagesPerSplit || p.valImages };
  const settings = settingsOf(p, n);
  const dsFile = path.join(p.out, 'dataset.json');
  if (!p.force && fs.existsSync(dsFile)) {
    const old = readJson<DatasetManifest>(dsFile);
    if (JSON.stringify(old.settings) === JSON.stringify(settings))
      return { out: p.out, manifest: old, skipped: true, seconds: (Date.now() - t0) / 1000 };
  }
  checkReplaceable(p.out);
  const tmp = `${path.resolve(p.out)}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const s of SPLITS) fs.mkdirSync(path.join(tmp, imageDirName(s)), { recursive: true });
  const manifest: DatasetManifest = {
    source: 'demo',
    splits: [...SPLITS],
    categories: [],
    counts: {},
    totals: {},
    settings,
    classes: DEMO_CLASSES.map((c) => ({ name: c.name, id: c.categoryId, weight: c.weight, sizePx: c.sizePx })),
    imageSizes: DEMO_SIZES,
    boxes: 'exact figure extent (amodal) clipped to the image, 0.01 px',
    area: 'box area w*h',
    segmentation: 'box polygon (crowd: uncompressed RLE of the box)',
  };
  let firstId = 1;
  for (const split of SPLITS) {
    const ds = await renderSplit(p, split, n[split], firstId, tmp);
    firstId += n[split];
    const file = path.join(tmp, annotationFile(split));
    writeJsonAtomic(file, ds);
    const c = await countCocoFile(file); // the same streaming code that counts COCO
    manifest.categories = c.categories.map((k) => ({ id: k.id, name: k.name }));
    manifest.counts[split] = c.counts;
    manifest.totals[split] = { images: c.images, annotations: c.annotations };
  }
  writeJsonAtomic(path.join(tmp, 'dataset.json'), manifest);
  const old = `${path.resolve(p.out)}.old-${process.pid}`;
  if (fs.existsSync(p.out)) fs.renameSync(p.out, old);
  fs.renameSync(tmp, p.out);
  fs.rmSync(old, { recursive: true, force: true });
  return { out: p.out, manifest, skipped: false, seconds: (Date.now() - t0) / 1000 };
}
