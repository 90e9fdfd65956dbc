/**
 * A detection confusion matrix with a background row and column, as Ultralytics builds it
 * (ultralytics/utils/metrics.py `ConfusionMatrix.process_batch`), at a stated IoU and score threshold:
 * per image, detections with score ≥ scoreThr and non-crowd GT are paired where IoU > iouThr; pairs are
 * taken by descending IoU, each detection and each GT at most once (any classes). A pair counts at
 * [GT class, predicted class]; an unpaired GT at [GT class, background] (missed); an unpaired detection
 * at [background, predicted class] (a false positive), except one lying on a crowd region (IoU with the
 * crowd box as pycocotools computes it ≥ iouThr), which is ignored as COCOeval ignores it.
 * Rows are ground truth, columns predictions (Ultralytics shows the transpose); the normalised matrix
 * divides each row by its sum (the share of each true class's objects, or of the background detections).
 */
import type { CocoAnnotation, CocoDataset, CocoResult } from '../coco/types.js';
import { bbIouAt } from '../cocoeval/iou.js';

export interface ConfusionMatrix {
  iouThr: number;
  scoreThr: number;
  /** Class names in category-id order, then 'background'. */
  labels: string[];
  /** counts[gtRow][predCol]; the last row and column are background. */
  counts: number[][];
  /** Each row divided by its sum (0 for an empty row). */
  normalized: number[][];
}

export function confusionMatrix(gt: CocoDataset, dets: CocoResult[], iouThr = 0.5, scoreThr = 0.25): ConfusionMatrix {
  const cats = [...gt.categories].sort((a, b) => a.id - b.id);
  const index = new Map(cats.map((c, i) => [c.id, i]));
  const K = cats.length,
    bg = K;
  const counts = Array.from({ length: K + 1 }, () => new Array<number>(K + 1).fill(0));
  const gtByImage = new Map<number, CocoAnnotation[]>();
  for (const a of gt.annotations) {
    if (!gtByImage.has(a.image_id)) gtByImage.set(a.image_id, []);
    gtByImage.get(a.image_id)!.push(a);
  }
  const dtByImage = new Map<number, CocoResult[]>();
  for (const d of dets) {
    if (d.score < scoreThr || !index.has(d.category_id)) continue;
    if (!dtByImage.has(d.image_id)) dtByImage.set(d.image_id, []);
    dtByImage.get(d.image_id)!.push(d);
  }
  for (const img of gt.images) {
    const all = gtByImage.get(img.id) ?? [];
    const gts = all.filter((a) => !a.iscrowd && index.has(a.category_id)),
      crowd = all.filter((a) => a.iscrowd);
    const ds = dtByImage.get(img.id) ?? [];
    const pairs: Array<[number, number, number]> = [];
    for (let g = 0; g < gts.length; g++) {
      for (let d = 0; d < ds.length; d++) {
        const iou = bbIouAt(ds[d].bbox, 0, gts[g].bbox, 0, false);
        if (iou > iouThr) pairs.push([g, d, iou]);
      }
    }
    pairs.sort((a, b) => b[2] - a[2] || a[1] - b[1] || a[0] - b[0]);
    const gTaken = new Int32Array(gts.length).fill(-1),
      dTaken = new Uint8Array(ds.length);
    for (const [g, d] of pairs)
      if (gTaken[g] < 0 && !dTaken[d]) {
        gTaken[g] = d;
        dTaken[d] = 1;
      }
    gts.forEach((a, g) => {
      counts[index.get(a.category_id)!][gTaken[g] >= 0 ? index.get(ds[gTaken[g]].category_id)! : bg]++;
    });
    ds.forEach((d, j) => {
      if (dTaken[j]) return;
      const onCrowd = crowd.some(
        (c) => c.category_id === d.category_id && bbIouAt(d.bbox, 0, c.bbox, 0, true) >= iouThr,
      );
      if (!onCrowd) counts[bg][index.get(d.category_id)!]++;
    });
  }
  const normalized = counts.map((row) => {
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (s ? v / s : 0));
  });
  return { iouThr, scoreThr, labels: [...cats.map((c) => c.name), 'background'], counts, normalized };
}
