/**
 * A seeded, COCO-shaped annotation file for tests and the subset bench: the official key order (info,
 * licenses, images, annotations, categories — categories last), the 80 COCO categories, image records
 * with COCO's fields, polygon segmentations (RLE for crowd regions) and a long-tailed class frequency.
 * At 118,287 images × 7.3 annotations it is about the size of instances_train2017.json (~450 MB).
 */
import { Rng } from '../engine/rng.js';
import { COCO_CATEGORIES } from './categories.js';
import { ArrayItems, AtomicTextWriter } from './file_writer.js';

export interface SyntheticCocoOptions {
  images: number;
  /** Mean annotations per image (COCO train2017: ~7.3). */
  annotationsPerImage?: number;
  /** Mean polygon vertices per annotation (controls file size). */
  polygonPoints?: number;
  /** Share of crowd annotations (COCO: ~1%). */
  crowdRate?: number;
  seed?: number;
  /** First image id (to make disjoint train/val files). */
  firstImageId?: number;
}

export interface SyntheticCocoStats {
  bytes: number;
  images: number;
  annotations: number;
}

/** train2017 instance counts for the mission classes (as in instances_train2017.json); others get ~5,000. */
const FREQ: Record<number, number> = {
  1: 262465,
  2: 7113,
  3: 43867,
  4: 8725,
  6: 6069,
  7: 4571,
  8: 9973,
  9: 10759,
  10: 12884,
  11: 1865,
};

function categorySampler(rng: Rng): () => number {
  const ids = COCO_CATEGORIES.map((c) => c.id);
  const w = ids.map((id) => FREQ[id] ?? 2000 + ((id * 7919) % 6000));
  const cum: number[] = [];
  w.reduce((s, x, i) => (cum[i] = s + x), 0);
  const total = cum[cum.length - 1];
  return () => {
    const u = rng.random() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return ids[lo];
  };
}

const r2 = (x: number) => Math.round(x * 100) / 100;

function imageRecord(id: number, rng: Rng): Record<string, unknown> {
  const name = `${String(id).padStart(12, '0')}.jpg`;
  const [width, height] = rng.bool(0.7) ? [640, rng.int(360, 480)] : [rng.int(360, 480), 640];
  return {
    license: rng.int(1, 8),
    file_name: name,
    coco_url: `http://images.cocodataset.org/train2017/${name}`,
    height,
    width,
    date_captured: `2013-11-${String(rng.int(10, 28))} ${String(rng.int(10, 23))}:${String(rng.int(10, 59))}:${String(rng.int(10, 59))}`,
    flickr_url: `http://farm${rng.int(1, 9)}.staticflickr.com/${rng.int(1000, 9999)}/${rng.int(1e9, 9e9)}_${rng.nextU32().toString(16)}_z.jpg`,
    id,
  };
}

/** Column-major uncompressed RLE of an axis-aligned integer box (pycocotools' `counts` layout). */
export function boxRle(
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  w: number,
  h: number,
): { counts: number[]; size: [number, number] } {
  const counts: number[] = [x0 * h + y0];
  for (let x = x0; x < x1; x++) {
    counts.push(y1 - y0);
    counts.push(x === x1 - 1 ? (w - x1) * h + (h - y1) : h - (y1 - y0));
  }
  return { counts, size: [h, w] };
}

function annotationRecord(
  id: number,
  im: { id: number; width: number; height: number },
  cat: number,
  crowd: boolean,
  pts: number,
  rng: Rng,
): Record<string, unknown> {
  const bw = rng.uniform(4, im.width * 0.6),
    bh = rng.uniform(4, im.height * 0.6);
  const bx = rng.uniform(0, im.width - bw),
    by = rng.uniform(0, im.height - bh);
  if (crowd) {
    const [x0, y0] = [Math.floor(bx), Math.floor(by)];
    const [x1, y1] = [Math.max(x0 + 1, Math.floor(bx + bw)), Math.max(y0 + 1, Math.floor(by + bh))];
    return {
      segmentation: boxRle(x0, y0, x1, y1, im.width, im.height),
      area: (x1 - x0) * (y1 - y0),
      iscrowd: 1,
      image_id: im.id,
      bbox: [x0, y0, x1 - x0, y1 - y0],
      category_id: cat,
      id,
    };
  }
  const n = Math.max(3, Math.round(pts * rng.uniform(0.3, 1.7)));
  const poly: number[] = [];
  for (let k = 0; k < n; k++) {
    const t = (2 * Math.PI * k) / n;
    poly.push(r2(bx + bw * (0.5 + 0.5 * Math.cos(t))), r2(by + bh * (0.5 + 0.5 * Math.sin(t))));
  }
  return {
    segmentation: [poly],
    area: bw * bh * rng.uniform(0.4, 0.8),
    iscrowd: 0,
    image_id: im.id,
    bbox: [r2(bx), r2(by), r2(bw), r2(bh)],
    category_id: cat,
    id,
  };
}

/** Writes the file atomically and returns its size and record counts. */
export function writeSyntheticCoco(file: string, o: SyntheticCocoOptions): SyntheticCocoStats {
  const rng = new Rng(o.seed ?? 0);
  const sample = categorySampler(rng.fork(1));
  const first = o.firstImageId ?? 1;
  const w = new AtomicTextWriter(file);
  try {
    w.write('{"info":{"description":"detrlab synthetic COCO-shaped annotations","version":"1.0","year":2017},');
    w.write(
      '"licenses":[{"url":"http://creativecommons.org/licenses/by/2.0/","id":1,"name":"Attribution License"}],"images":[',
    );
    const ims: Array<{ id: number; width: number; height: number }> = [];
    const imgItems = new ArrayItems(w);
    for (let i = 0; i < o.images; i++) {
      const rec = imageRecord(first + i, rng);
      ims.push({ id: rec.id as number, width: rec.width as number, height: rec.height as number });
      imgItems.add(JSON.stringify(rec));
    }
    w.write('],"annotations":[');
    const anns = new ArrayItems(w);
    const mean = o.annotationsPerImage ?? 7.3;
    for (const im of ims) {
      const k = Math.round(rng.uniform(0, 2 * mean));
      for (let j = 0; j < k; j++) {
        const crowd = rng.bool(o.crowdRate ?? 0.01);
        anns.add(JSON.stringify(annotationRecord(anns.count + 1, im, sample(), crowd, o.polygonPoints ?? 24, rng)));
      }
    }
    w.write(`],"categories":${JSON.stringify(COCO_CATEGORIES)}}\n`);
    w.commit();
    return { bytes: w.bytes, images: imgItems.count, annotations: anns.count };
  } catch (e) {
    w.abort();
    throw e;
  }
}
