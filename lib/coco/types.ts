/**
 * COCO detection formats as TypeScript types, and small validators that reject malformed records with a
 * UserError naming the record and the field.
 *
 * Dataset (instances_*.json): { images, annotations, categories }; boxes are absolute `[x, y, w, h]`.
 * Results (detections): a JSON list of { image_id, category_id, bbox: [x, y, w, h], score }.
 * Field meanings follow pycocotools (cocodataset/cocoapi PythonAPI/pycocotools/coco.py): `area` is the
 * segmentation area (not necessarily w·h), `iscrowd` 1 marks a crowd region.
 */
import { UserError } from '../params/user_error.js';

/** Absolute pixel box `[x, y, w, h]` (top-left corner, width, height). */
export type BoxXywhAbs = [number, number, number, number];

export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
  [extra: string]: unknown;
}

export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
  [extra: string]: unknown;
}

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: BoxXywhAbs;
  /** Object area in pixels (COCO: the segmentation's area). Used for the small/medium/large ranges. */
  area: number;
  /** 1 = crowd region (matched repeatedly, never counted as a miss). */
  iscrowd: 0 | 1;
  segmentation?: unknown;
  [extra: string]: unknown;
}

export interface CocoDataset {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
  info?: unknown;
  licenses?: unknown;
}

/** One detection in the COCO results format. */
export interface CocoResult {
  image_id: number;
  category_id: number;
  bbox: BoxXywhAbs;
  score: number;
  [extra: string]: unknown;
}

const describeValue = (v: unknown): string => {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}`;
  if (v === undefined) return 'missing';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v);
};

/** NaN / Infinity can arrive as the strings "NaN", "Infinity" (see `parseJsonLenient` in lib/eval). */
const nonFinite = (v: unknown): boolean =>
  (typeof v === 'number' && !Number.isFinite(v)) || v === 'NaN' || v === 'Infinity' || v === '-Infinity';

/** Throws a UserError naming `where` (e.g. `results[12].score`) unless `v` is a finite number. */
export function checkFiniteNumber(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  const why = nonFinite(v) ? `is ${String(v)} (not a finite number)` : `must be a number, got ${describeValue(v)}`;
  throw new UserError(`${where} ${why}`);
}

/** `[x, y, w, h]` of 4 finite numbers, or a UserError naming the record. */
export function checkBoxXywh(v: unknown, where: string): BoxXywhAbs {
  if (!Array.isArray(v) || v.length !== 4) {
    throw new UserError(`${where} must be [x, y, w, h] (4 numbers), got ${describeValue(v)}`);
  }
  for (let i = 0; i < 4; i++) checkFiniteNumber(v[i], `${where}[${i}]`);
  return v as BoxXywhAbs;
}

const checkRecord = (v: unknown, where: string): Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new UserError(`${where} must be an object, got ${describeValue(v)}`);
  }
  return v as Record<string, unknown>;
};

/**
 * Checks a results list: each record an object with finite numeric `image_id`, `category_id`, `score`
 * and a 4-number `bbox`. `where` names the source (a file path) in messages: `dets.json: results[3].bbox[2] is NaN`.
 */
export function validateResults(v: unknown, where = 'results'): CocoResult[] {
  if (!Array.isArray(v)) {
    throw new UserError(
      `${where}: a COCO results file must be a JSON list of {image_id, category_id, bbox, score}, got ${describeValue(v)}`,
    );
  }
  for (let i = 0; i < v.length; i++) {
    if (!isWellFormedResult(v[i])) explainResult(v[i], `${where}: results[${i}]`);
  }
  return v as CocoResult[];
}

const finite = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);

/** Fast check, no allocation (500k records): the message is built only for a bad record. */
function isWellFormedResult(r: unknown): boolean {
  if (typeof r !== 'object' || r === null) return false;
  const o = r as Record<string, unknown>,
    b = o.bbox;
  return (
    finite(o.image_id) &&
    finite(o.category_id) &&
    finite(o.score) &&
    Array.isArray(b) &&
    b.length === 4 &&
    finite(b[0]) &&
    finite(b[1]) &&
    finite(b[2]) &&
    finite(b[3])
  );
}

/** One result record checked (for streamed reading); `at` names it, e.g. `dets.json: results[3]`. */
export function validateResult(v: unknown, at: string): CocoResult {
  if (!isWellFormedResult(v)) explainResult(v, at);
  return v as CocoResult;
}

/** Throws the UserError that says what is wrong with a malformed result record. */
function explainResult(v: unknown, at: string): never {
  const r = checkRecord(v, at);
  checkFiniteNumber(r.image_id, `${at}.image_id`);
  checkFiniteNumber(r.category_id, `${at}.category_id`);
  checkBoxXywh(r.bbox, `${at}.bbox`);
  checkFiniteNumber(r.score, `${at}.score`);
  throw new UserError(`${at} is malformed`);
}

/**
 * Checks a COCO detection dataset's structure: the three lists, numeric ids, 4-number boxes.
 * `area` and `iscrowd` may be absent here (the evaluator decides what that means and warns); present
 * values must be numbers.
 */
export function validateDataset(v: unknown, where = 'dataset'): CocoDataset {
  const d = checkRecord(v, where);
  for (const key of ['images', 'annotations', 'categories']) {
    if (!Array.isArray(d[key])) throw new UserError(`${where}: '${key}' must be a list, got ${describeValue(d[key])}`);
  }
  (d.images as unknown[]).forEach((im, i) =>
    checkFiniteNumber(checkRecord(im, `${where}: images[${i}]`).id, `${where}: images[${i}].id`),
  );
  (d.categories as unknown[]).forEach((c, i) =>
    checkFiniteNumber(checkRecord(c, `${where}: categories[${i}]`).id, `${where}: categories[${i}].id`),
  );
  (d.annotations as unknown[]).forEach((a, i) => {
    const at = `${where}: annotations[${i}]`;
    const r = checkRecord(a, at);
    for (const f of ['id', 'image_id', 'category_id']) checkFiniteNumber(r[f], `${at}.${f}`);
    checkBoxXywh(r.bbox, `${at}.bbox`);
    if (r.area !== undefined) checkFiniteNumber(r.area, `${at}.area`);
    if (r.iscrowd !== undefined && typeof r.iscrowd !== 'number' && typeof r.iscrowd !== 'boolean') {
      throw new UserError(`${at}.iscrowd must be 0 or 1, got ${describeValue(r.iscrowd)}`);
    }
  });
  return d as unknown as CocoDataset;
}
