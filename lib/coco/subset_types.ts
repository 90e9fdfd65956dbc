/**
 * The files that connect the data stages (docs/data_layout.md): a COCO root's dataset.json, a subset's
 * label_map.json and subset.json, and the per-class counts they carry.
 */

/** Per-class figures of one split. `boxes` counts non-crowd annotations, `crowd` the iscrowd=1 ones,
 *  `images` the images with at least one annotation (crowd or not) of the class. */
export interface PerClassCount {
  images: number;
  boxes: number;
  crowd: number;
}
export type PerClassCounts = Record<string, PerClassCount>;

export type SplitName = 'train' | 'val';
export const SPLITS: readonly SplitName[] = ['train', 'val'];

/** `<root>/annotations/instances_<split>2017.json` and `<root>/images/<split>2017`. */
export const annotationFile = (split: string): string => `annotations/instances_${split}2017.json`;
export const imageDirName = (split: string): string => `images/${split}2017`;

/** label_map.json: label = index (contiguous 0..K-1); categoryIds are COCO's. */
export interface LabelMap {
  classes: string[];
  categoryIds: number[];
}

/** subset.json (see docs/data_layout.md). Paths are relative to the subset folder. */
export interface SubsetManifest {
  cocoRoot: string;
  imageDirs: Record<string, string>;
  classes: string[];
  categoryIds: number[];
  counts: Record<string, PerClassCounts>;
  /** Images / annotations written per split. */
  totals: Record<string, { images: number; annotations: number }>;
  /** What the subset was made from (sizes + mtimes of the source files, classes), to skip identical re-runs. */
  fingerprint: string;
  source?: string;
}

/** dataset.json of a COCO root (prepare-coco or make-demo). */
export interface DatasetManifest {
  source: 'coco2017' | 'demo';
  splits: string[];
  categories: Array<{ id: number; name: string }>;
  counts: Record<string, PerClassCounts>;
  totals: Record<string, { images: number; annotations: number }>;
  [provenance: string]: unknown;
}
