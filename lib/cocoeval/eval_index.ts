/**
 * Ground truth and detections packed into typed arrays, grouped per (category, image) — the unit
 * pycocotools evaluates (`COCOeval._prepare` fills `_gts[imgId, catId]` / `_dts[imgId, catId]`).
 *
 * Group g = k · I + i for category index k (into sorted catIds) and image index i (into sorted imgIds),
 * so one category's groups are contiguous and images come in ascending id order. `groupStart[g] ..
 * groupStart[g+1]` are the rows of group g. Within a group:
 * - GT rows keep file order (pycocotools' `imgToAnns` order);
 * - detection rows are sorted by score descending, ties in file order (`np.argsort(-score,
 *   kind='mergesort')`), and truncated to the largest maxDet (`COCOeval.computeIoU` / `evaluateImg`).
 */
import type { CocoDataset, CocoResult } from '../coco/types.js';

export interface GtIndex {
  /** [N, 4] xywh, flat. */
  box: Float64Array;
  /** The annotation's `area` field (what the area ranges test). */
  area: Float64Array;
  /** 1 = iscrowd (also the pycocotools `ignore` flag, which iscrowd overwrites). */
  crowd: Uint8Array;
  /** 1 = annotation id is 0, which pycocotools' matching reads as "unmatched" (see coco_eval.ts). */
  idZero: Uint8Array;
  /** Annotation index in `dataset.annotations` of each row. */
  src: Int32Array;
  groupStart: Int32Array;
}

export interface DtIndex {
  box: Float64Array;
  /** w·h (pycocotools `loadRes`), negative for a negative width or height. */
  area: Float64Array;
  score: Float64Array;
  /** Index into the results list of each row. */
  src: Int32Array;
  /** Position of the row inside its group after the score sort (0 = best): the maxDets cut reads it. */
  rank: Int32Array;
  groupStart: Int32Array;
}

/**
 * id → index in a sorted id list, −1 when absent. A dense table when ids are small non-negative integers
 * (COCO's are), else a Map.
 */
export function idLookup(ids: number[]): (id: number) => number {
  const max = ids.reduce((m, x) => Math.max(m, x), -1);
  if (ids.every((x) => Number.isInteger(x) && x >= 0) && max < 1 << 24) {
    const table = new Int32Array(max + 1).fill(-1);
    ids.forEach((id, i) => {
      table[id] = i;
    });
    return (id) => (Number.isInteger(id) && id >= 0 && id <= max ? table[id] : -1);
  }
  const m = new Map(ids.map((id, i) => [id, i]));
  return (id) => m.get(id) ?? -1;
}

/** Stable counting sort of rows by group key (key −1 = dropped): returns row order and group starts. */
function groupRows(keys: Int32Array, nGroups: number): { order: Int32Array; groupStart: Int32Array } {
  const groupStart = new Int32Array(nGroups + 1);
  for (let n = 0; n < keys.length; n++) if (keys[n] >= 0) groupStart[keys[n] + 1]++;
  for (let g = 0; g < nGroups; g++) groupStart[g + 1] += groupStart[g];
  const fill = groupStart.slice(0, nGroups);
  const order = new Int32Array(groupStart[nGroups]);
  for (let n = 0; n < keys.length; n++) if (keys[n] >= 0) order[fill[keys[n]]++] = n;
  return { order, groupStart };
}

/** Group key k · I + i of each record, −1 when its image or category is not evaluated. */
function groupKeys(
  recs: ReadonlyArray<{ image_id: number; category_id: number }>,
  imgIds: number[],
  catIds: number[],
): Int32Array {
  const img = idLookup(imgIds),
    cat = idLookup(catIds),
    I = imgIds.length;
  const keys = new Int32Array(recs.length);
  for (let n = 0; n < recs.length; n++) {
    const i = img(recs[n].image_id),
      k = cat(recs[n].category_id);
    keys[n] = i < 0 || k < 0 ? -1 : k * I + i;
  }
  return keys;
}

export function indexGroundTruth(gt: CocoDataset, imgIds: number[], catIds: number[]): GtIndex {
  const anns = gt.annotations;
  const { order, groupStart } = groupRows(groupKeys(anns, imgIds, catIds), imgIds.length * catIds.length);
  const N = order.length;
  const out: GtIndex = {
    box: new Float64Array(4 * N),
    area: new Float64Array(N),
    crowd: new Uint8Array(N),
    idZero: new Uint8Array(N),
    src: order,
    groupStart,
  };
  for (let r = 0; r < N; r++) {
    const a = anns[order[r]];
    out.box.set(a.bbox, 4 * r);
    out.area[r] = a.area ?? a.bbox[2] * a.bbox[3];
    out.crowd[r] = a.iscrowd ? 1 : 0;
    out.idZero[r] = a.id === 0 ? 1 : 0;
  }
  return out;
}

/** Sorts `idx[lo..hi)` by score descending, ties by ascending index (a stable sort of file order). */
function sortByScoreDesc(idx: Int32Array, lo: number, hi: number, score: ArrayLike<number>): void {
  if (hi - lo <= 24) {
    for (let a = lo + 1; a < hi; a++) {
      const v = idx[a],
        s = score[v];
      let b = a - 1;
      while (b >= lo && score[idx[b]] < s) {
        idx[b + 1] = idx[b];
        b--;
      }
      idx[b + 1] = v;
    }
    return;
  }
  idx.subarray(lo, hi).sort((x, y) => score[y] - score[x] || x - y);
}

export function indexDetections(dets: CocoResult[], imgIds: number[], catIds: number[], maxDet: number): DtIndex {
  // One sequential pass over the records; everything after works on typed arrays.
  const keys = groupKeys(dets, imgIds, catIds);
  const score = new Float64Array(dets.length),
    box = new Float64Array(4 * dets.length);
  for (let n = 0; n < dets.length; n++) {
    const b = dets[n].bbox;
    score[n] = dets[n].score;
    box[4 * n] = b[0];
    box[4 * n + 1] = b[1];
    box[4 * n + 2] = b[2];
    box[4 * n + 3] = b[3];
  }
  const nGroups = imgIds.length * catIds.length;
  const { order, groupStart: full } = groupRows(keys, nGroups);
  const groupStart = new Int32Array(nGroups + 1);
  for (let g = 0; g < nGroups; g++) {
    sortByScoreDesc(order, full[g], full[g + 1], score);
    groupStart[g + 1] = groupStart[g] + Math.min(maxDet, full[g + 1] - full[g]);
  }
  const N = groupStart[nGroups];
  const out: DtIndex = {
    box: new Float64Array(4 * N),
    area: new Float64Array(N),
    score: new Float64Array(N),
    src: new Int32Array(N),
    rank: new Int32Array(N),
    groupStart,
  };
  for (let g = 0; g < nGroups; g++) {
    for (let r = groupStart[g], j = 0; r < groupStart[g + 1]; r++, j++) {
      const n = order[full[g] + j];
      for (let q = 0; q < 4; q++) out.box[4 * r + q] = box[4 * n + q];
      out.area[r] = box[4 * n + 2] * box[4 * n + 3];
      out.score[r] = score[n];
      out.src[r] = n;
      out.rank[r] = j;
    }
  }
  return out;
}
