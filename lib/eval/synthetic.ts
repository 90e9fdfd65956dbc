/**
 * Seeded, realistic-looking evaluation cases (GT + detections) for tests and the cocoeval bench:
 * long-tailed classes with non-contiguous ids, box sizes from tiny to huge, `area` below w·h (as a
 * segmentation area is), some crowd regions; detections near GT boxes with jitter (some with the wrong
 * class, some duplicated) plus random boxes, with scores that may be rounded to create ties.
 */
import type { BoxXywhAbs, CocoAnnotation, CocoDataset, CocoResult } from '../coco/types.js';
import { Rng } from '../engine/rng.js';

export interface SyntheticCaseOptions {
  images: number;
  categories: number;
  /** Mean GT objects per image. */
  gtPerImage: number;
  detsPerImage: number;
  /** Fraction of GT that are crowd regions. */
  crowdFraction?: number;
  /** Round scores to this many decimals (ties), or undefined for full precision. */
  scoreDecimals?: number;
  seed: number;
}

const IMG_W = 640,
  IMG_H = 480;

/** A box of log-uniform area in [8², 400²], aspect in [1/3, 3], clipped inside the image. */
function randomBox(rng: Rng): BoxXywhAbs {
  const area = Math.exp(rng.uniform(Math.log(64), Math.log(160000)));
  const aspect = Math.exp(rng.uniform(-Math.log(3), Math.log(3)));
  const w = Math.min(IMG_W - 1, Math.sqrt(area * aspect)),
    h = Math.min(IMG_H - 1, Math.sqrt(area / aspect));
  return [rng.uniform(0, IMG_W - w), rng.uniform(0, IMG_H - h), w, h];
}

const jitter = (rng: Rng, b: BoxXywhAbs, s: number): BoxXywhAbs => {
  const w = Math.max(1, b[2] * Math.exp(s * rng.normal())),
    h = Math.max(1, b[3] * Math.exp(s * rng.normal()));
  return [b[0] + b[2] / 2 - w / 2 + s * b[2] * rng.normal(), b[1] + b[3] / 2 - h / 2 + s * b[3] * rng.normal(), w, h];
};

/** Category ids 1, 2, 3, … skipping every 12th (COCO's ids are not contiguous); Zipf-like frequencies. */
function categoryTable(n: number): { ids: number[]; cumulative: number[] } {
  const ids: number[] = [];
  for (let id = 1; ids.length < n; id++) if (id % 12 !== 0) ids.push(id);
  const w = ids.map((_, i) => 1 / (i + 1) ** 0.8),
    total = w.reduce((a, b) => a + b, 0);
  let acc = 0;
  return { ids, cumulative: w.map((x) => (acc += x / total)) };
}

function makeGt(rng: Rng, o: SyntheticCaseOptions, cats: ReturnType<typeof categoryTable>): CocoDataset {
  const pickCat = () =>
    cats.ids[
      Math.min(
        cats.ids.length - 1,
        cats.cumulative.findIndex((c) => rng.random() < c),
      )
    ];
  const annotations: CocoAnnotation[] = [];
  const images = Array.from({ length: o.images }, (_, i) => ({
    id: 1 + 3 * i,
    file_name: `${1 + 3 * i}.jpg`,
    width: IMG_W,
    height: IMG_H,
  }));
  for (const im of images) {
    const n = Math.max(0, Math.round(o.gtPerImage + Math.sqrt(o.gtPerImage) * rng.normal()));
    for (let j = 0; j < n; j++) {
      const bbox = randomBox(rng),
        crowd = rng.bool(o.crowdFraction ?? 0.01);
      annotations.push({
        id: annotations.length + 1,
        image_id: im.id,
        category_id: pickCat(),
        bbox,
        area: bbox[2] * bbox[3] * rng.uniform(0.55, 0.95),
        iscrowd: crowd ? 1 : 0,
      });
    }
  }
  return { images, annotations, categories: cats.ids.map((id) => ({ id, name: `class_${id}` })) };
}

function makeDets(rng: Rng, o: SyntheticCaseOptions, gt: CocoDataset, catIds: number[]): CocoResult[] {
  const byImage = new Map<number, CocoAnnotation[]>();
  for (const a of gt.annotations) {
    if (!byImage.has(a.image_id)) byImage.set(a.image_id, []);
    byImage.get(a.image_id)!.push(a);
  }
  const score = (x: number) => (o.scoreDecimals === undefined ? x : Number(x.toFixed(o.scoreDecimals)));
  const dets: CocoResult[] = [];
  for (const im of gt.images) {
    const mine: CocoResult[] = [];
    for (const a of byImage.get(im.id) ?? []) {
      const copies = rng.bool(0.85) ? (rng.bool(0.15) ? 2 : 1) : 0;
      for (let c = 0; c < copies && mine.length < o.detsPerImage; c++) {
        const cat = rng.bool(0.1) ? rng.pick(catIds) : a.category_id;
        mine.push({
          image_id: im.id,
          category_id: cat,
          bbox: jitter(rng, a.bbox, rng.uniform(0.02, 0.25)),
          score: score(rng.uniform(0.3, 1) ** 0.7),
        });
      }
    }
    while (mine.length < o.detsPerImage) {
      mine.push({
        image_id: im.id,
        category_id: rng.pick(catIds),
        bbox: randomBox(rng),
        score: score(rng.uniform(0, 0.6) ** 2),
      });
    }
    dets.push(...rng.shuffle(mine));
  }
  return dets;
}

export function syntheticCase(o: SyntheticCaseOptions): { gt: CocoDataset; dets: CocoResult[] } {
  const rng = new Rng(o.seed);
  const cats = categoryTable(o.categories);
  const gt = makeGt(rng, o, cats);
  return { gt, dets: makeDets(rng, o, gt, cats.ids) };
}
