/** Small GT/detection builders for the evaluator tests. */
import type { BoxXywhAbs, CocoAnnotation, CocoDataset, CocoResult } from '../../lib/coco/types.js';
import { evaluateCoco, CocoEvalResult } from '../../lib/cocoeval/coco_eval.js';
import type { EvalParams } from '../../lib/cocoeval/params.js';

export interface GtSpec {
  image: number;
  cat: number;
  box: BoxXywhAbs;
  area?: number;
  crowd?: boolean;
  id?: number;
  extra?: Record<string, unknown>;
}

/** A dataset with the given image ids, categories `cats` (named c<id>) and annotations (ids 1.. unless given). */
export function dataset(imageIds: number[], anns: GtSpec[], cats: number[] = [1]): CocoDataset {
  const annotations: CocoAnnotation[] = anns.map((a, i) => ({
    id: a.id ?? i + 1,
    image_id: a.image,
    category_id: a.cat,
    bbox: a.box,
    area: a.area ?? a.box[2] * a.box[3],
    iscrowd: a.crowd ? 1 : 0,
    ...a.extra,
  }));
  return {
    images: imageIds.map((id) => ({ id, file_name: `${id}.jpg`, width: 1000, height: 1000 })),
    annotations,
    categories: cats.map((id) => ({ id, name: `c${id}` })),
  };
}

export const det = (image: number, cat: number, box: BoxXywhAbs, score: number): CocoResult => ({
  image_id: image,
  category_id: cat,
  bbox: box,
  score,
});

export const evaluate = (gt: CocoDataset, dets: CocoResult[], params?: Partial<EvalParams>): CocoEvalResult =>
  evaluateCoco(gt, dets, { quiet: true, params });

/** precision[t, r, k, a, m] */
export const precisionAt = (r: CocoEvalResult, t: number, ri: number, k: number, a: number, m: number): number => {
  const { R, K, A, M } = r.arrays;
  return r.arrays.precision[(((t * R + ri) * K + k) * A + a) * M + m];
};

/** recall[t, k, a, m] */
export const recallAt = (r: CocoEvalResult, t: number, k: number, a: number, m: number): number => {
  const { K, A, M } = r.arrays;
  return r.arrays.recall[((t * K + k) * A + a) * M + m];
};

/** Mean of precision[:, :, k, a, m] over the thresholds in `ts` (all when omitted). */
export function apOf(r: CocoEvalResult, k = 0, a = 0, m = 2, ts?: number[]): number {
  const { T, R } = r.arrays;
  const vals: number[] = [];
  for (const t of ts ?? Array.from({ length: T }, (_, i) => i))
    for (let ri = 0; ri < R; ri++) vals.push(precisionAt(r, t, ri, k, a, m));
  return vals.reduce((s, v) => s + v, 0) / vals.length;
}

/** A 100×100 box at (x, y): "large" (area 10000 > 96²). */
export const big = (x: number, y = 0): BoxXywhAbs => [x, y, 100, 100];

/** 1/(1+eps): what pycocotools' `tp / (tp + fp + eps)` gives for a precision of 1. */
export const ONE = 1 / (1 + 2.220446049250313e-16);

/**
 * A hand-written case with the awkward inputs pycocotools has rules for: crowd, an `ignore` flag, area
 * exactly on the range bounds (1024, 9216), `area` ≠ w·h, an annotation with id 0, a detection with a
 * negative width, one of an unknown category, an image without GT, score ties across images and within
 * one, and one (image, category) with 120 detections (past maxDets 100). Its figures are pinned against
 * pycocotools in coco_eval_reference.test.ts.
 */
export function edgeCase(): { gt: CocoDataset; dets: CocoResult[] } {
  const gt = dataset(
    [4, 2, 9, 7],
    [
      { image: 2, cat: 1, box: [10, 10, 32, 32] }, // area 1024: small and medium
      { image: 2, cat: 1, box: [100, 100, 96, 96] }, // area 9216: medium and large
      { image: 2, cat: 3, box: [300, 300, 200, 150], crowd: true }, // crowd region
      { image: 2, cat: 3, box: [320, 320, 40, 40], area: 900 }, // small by area, medium by w·h
      { image: 4, cat: 1, box: [0, 0, 50, 50], extra: { ignore: 1 } }, // ignore flag is overwritten
      { image: 4, cat: 3, box: [200, 0, 60, 60], id: 0 }, // id 0
      { image: 4, cat: 3, box: [400, 0, 60, 60] },
      { image: 7, cat: 1, box: [0, 0, 20, 20] },
      { image: 7, cat: 1, box: [5, 0, 20, 20] },
    ],
    [1, 3, 5],
  );
  const dets: CocoResult[] = [
    det(2, 1, [11, 10, 32, 32], 0.9),
    det(2, 1, [100, 104, 96, 90], 0.9),
    det(2, 1, [500, 500, 30, 30], 0.5),
    det(2, 3, [310, 310, 50, 50], 0.8),
    det(2, 3, [400, 400, 30, 30], 0.7),
    det(2, 3, [318, 322, 40, 42], 0.6),
    det(4, 1, [1, 1, 50, 48], 0.5),
    det(4, 3, [200, 0, 60, 60], 0.95),
    det(4, 3, [402, 2, 60, 60], 0.5),
    det(4, 3, [420, 0, -30, 50], 0.4),
    det(4, 2, [0, 0, 10, 10], 0.99),
    det(9, 1, [0, 0, 40, 40], 0.5),
    det(7, 1, [2, 0, 20, 20], 0.5),
    det(7, 1, [3, 0, 20, 20], 0.5),
  ];
  for (let i = 0; i < 120; i++) dets.push(det(9, 5, [i * 7, 600, 12 + (i % 5), 12], 0.3 + (i % 4) * 0.05));
  dets.push(det(9, 5, [0, 900, 10, 10], 0.01));
  return {
    gt: {
      ...gt,
      annotations: [
        ...gt.annotations,
        { id: 99, image_id: 9, category_id: 5, bbox: [14, 600, 12, 12], area: 130, iscrowd: 0 },
      ],
    },
    dets,
  };
}
