/**
 * COCOeval parameters for boxes, with pycocotools' defaults (cocodataset/cocoapi
 * PythonAPI/pycocotools/cocoeval.py `Params.setDetParams`).
 */
import { UserError } from '../params/user_error.js';

export interface EvalParams {
  /** Image ids evaluated (default: every GT image), sorted and de-duplicated as `np.unique` does. */
  imgIds: number[];
  /** Category ids evaluated (default: every GT category), sorted and de-duplicated. */
  catIds: number[];
  /** IoU thresholds (T = 10): `np.linspace(.5, .95, 10)`. */
  iouThrs: number[];
  /** Recall thresholds (R = 101): `np.linspace(0, 1, 101)`. */
  recThrs: number[];
  /** Max detections per image and category (M = 3), sorted ascending. */
  maxDets: number[];
  /** Area ranges `[lo, hi]`, inclusive at both ends (A = 4). */
  areaRng: Array<[number, number]>;
  areaRngLbl: string[];
}

/**
 * numpy's `linspace(start, stop, num)` bit for bit: `start + i * step` with `step = (stop - start) / (num - 1)`,
 * the last value set to `stop` (numpy/core/function_base.py). Not `i / 100`: 0.9 here is 0.8999999999999999,
 * and several recall thresholds sit one ulp above i/100; AP moves by ~1e-4 if these differ.
 */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num <= 0) return [];
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}

/** pycocotools' area ranges: all, small (< 32²), medium, large (> 96²); 1e5² stands for "no upper bound". */
export const DEFAULT_AREA_RNG: Array<[number, number]> = [
  [0, 1e5 ** 2],
  [0, 32 ** 2],
  [32 ** 2, 96 ** 2],
  [96 ** 2, 1e5 ** 2],
];
export const DEFAULT_AREA_LBL = ['all', 'small', 'medium', 'large'];

/** Defaults except imgIds / catIds, which come from the ground truth. */
export const defaultEvalParams = (): Omit<EvalParams, 'imgIds' | 'catIds'> => ({
  // pycocotools: np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1) → 10 values
  iouThrs: linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1),
  recThrs: linspace(0.0, 1.0, Math.round((1.0 - 0.0) / 0.01) + 1),
  maxDets: [1, 10, 100],
  areaRng: DEFAULT_AREA_RNG.map(([lo, hi]) => [lo, hi] as [number, number]),
  areaRngLbl: [...DEFAULT_AREA_LBL],
});

const sortedUnique = (xs: number[]): number[] => [...new Set(xs)].sort((a, b) => a - b);

/** Defaults ← overrides; ids de-duplicated and sorted, maxDets sorted (as `COCOeval.evaluate` does). */
export function resolveEvalParams(gtImgIds: number[], gtCatIds: number[], o: Partial<EvalParams> = {}): EvalParams {
  const p: EvalParams = { ...defaultEvalParams(), imgIds: gtImgIds, catIds: gtCatIds, ...o };
  p.imgIds = sortedUnique(p.imgIds);
  p.catIds = sortedUnique(p.catIds);
  p.maxDets = [...p.maxDets].sort((a, b) => a - b);
  if (p.areaRng.length !== p.areaRngLbl.length)
    throw new UserError(`areaRng has ${p.areaRng.length} ranges but areaRngLbl ${p.areaRngLbl.length} labels`);
  if (p.maxDets.length === 0 || p.maxDets.some((m) => !Number.isInteger(m) || m < 1))
    throw new UserError(`maxDets must be positive integers, got ${JSON.stringify(p.maxDets)}`);
  for (const [k, xs] of [
    ['iouThrs', p.iouThrs],
    ['recThrs', p.recThrs],
  ] as const) {
    if (xs.length === 0 || xs.some((x, i) => !Number.isFinite(x) || x < 0 || x > 1 || (i > 0 && x < xs[i - 1]))) {
      throw new UserError(`${k} must be a non-empty ascending list in [0, 1], got ${JSON.stringify(xs)}`);
    }
  }
  return p;
}
