/**
 * A labels overview of a split's ground truth, like Ultralytics' labels.jpg: instances per class and
 * the distributions of box size (sqrt(w·h) relative to sqrt(W·H) of the image), aspect ratio (log2 w/h)
 * and position (box centres in relative image coordinates, on a 10 × 10 grid). Crowd regions are left
 * out (they are not objects the detector should find).
 */
import type { CocoDataset } from '../coco/types.js';

export interface LabelsOverview {
  images: number;
  boxes: number;
  classCounts: Array<{ class: string; instances: number; images: number }>;
  /** Histogram of sqrt(w·h / (W·H)) over [0, 1], 20 bins: {lo, hi, count}. */
  relativeSize: Array<{ lo: number; hi: number; count: number }>;
  /** Histogram of log2(w / h) over [-4, 4] (values beyond are put in the end bins), 16 bins. */
  log2Aspect: Array<{ lo: number; hi: number; count: number }>;
  /** Box centres on a 10 × 10 grid of the image: {x, y} bin index 0..9 (y down), count. */
  centres: Array<{ x: number; y: number; count: number }>;
}

function histogram(values: number[], lo: number, hi: number, bins: number): LabelsOverview['relativeSize'] {
  const w = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / w)))]++;
  return counts.map((count, i) => ({ lo: lo + i * w, hi: lo + (i + 1) * w, count }));
}

export function labelsOverview(ds: CocoDataset): LabelsOverview {
  const size = new Map(ds.images.map((i) => [i.id, [i.width, i.height] as const]));
  const cats = [...ds.categories].sort((a, b) => a.id - b.id);
  const inst = new Map(cats.map((c) => [c.id, 0])),
    imgs = new Map(cats.map((c) => [c.id, new Set<number>()]));
  const rel: number[] = [],
    asp: number[] = [];
  const grid = new Array<number>(100).fill(0);
  let boxes = 0;
  for (const a of ds.annotations) {
    const wh = size.get(a.image_id);
    if (a.iscrowd || !wh || !inst.has(a.category_id)) continue;
    const [W, H] = wh,
      [x, y, w, h] = a.bbox;
    if (!(w > 0 && h > 0 && W > 0 && H > 0)) continue;
    boxes++;
    inst.set(a.category_id, inst.get(a.category_id)! + 1);
    imgs.get(a.category_id)!.add(a.image_id);
    rel.push(Math.sqrt((w * h) / (W * H)));
    asp.push(Math.log2(w / h));
    const gx = Math.min(9, Math.max(0, Math.floor(((x + w / 2) / W) * 10))),
      gy = Math.min(9, Math.max(0, Math.floor(((y + h / 2) / H) * 10)));
    grid[gy * 10 + gx]++;
  }
  return {
    images: ds.images.length,
    boxes,
    classCounts: cats.map((c) => ({ class: c.name, instances: inst.get(c.id)!, images: imgs.get(c.id)!.size })),
    relativeSize: histogram(rel, 0, 1, 20),
    log2Aspect: histogram(asp, -4, 4, 16),
    centres: grid.map((count, i) => ({ x: i % 10, y: Math.floor(i / 10), count })),
  };
}
