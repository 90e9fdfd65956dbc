/**
 * The JSON record of an evaluation, as `detrlab coco-eval --out` writes it (docs/contracts.md) and as
 * `metrics/val_metrics.json` can reuse: the 12 stats in `summarize()` order and by name, per-category
 * AP keyed by category id and by name, the parameters used, counts and warnings.
 */
import type { CocoEvalResult } from './coco_eval.js';
import type { StatName } from './summarize.js';

export interface CategoryAp {
  categoryId: number;
  name: string;
  ap: number;
  ap50: number;
  ap75: number;
  ar100: number;
  numGt: number;
  numCrowd: number;
  numDets: number;
}

export interface CocoEvalReport {
  /** pycocotools' `COCOeval.stats`: the 12 numbers in summarize() order. */
  stats: number[];
  statsByName: Record<StatName, number>;
  /** Keyed by category id (as a JSON string key). −1 where the category has no GT. */
  perCategory: Record<string, CategoryAp>;
  /** Keyed by category name: the same records. */
  perCategoryByName: Record<string, CategoryAp>;
  params: CocoEvalResult['params'];
  counts: CocoEvalResult['counts'];
  warnings: string[];
  /** pycocotools' printed summary. */
  summary: string[];
  evaluator: string;
}

export function cocoEvalReport(r: CocoEvalResult): CocoEvalReport {
  const cats: CategoryAp[] = r.perCategory.map((c) => ({
    categoryId: c.categoryId,
    name: c.name,
    ap: c.stats.map,
    ap50: c.stats.map_50,
    ap75: c.stats.map_75,
    ar100: c.stats.mar_100,
    numGt: c.numGt,
    numCrowd: c.numCrowd,
    numDets: c.numDets,
  }));
  return {
    stats: r.stats,
    statsByName: r.statsByName,
    perCategory: Object.fromEntries(cats.map((c) => [String(c.categoryId), c])),
    perCategoryByName: Object.fromEntries(cats.map((c) => [c.name, c])),
    params: r.params,
    counts: r.counts,
    warnings: r.warnings,
    summary: r.summary,
    evaluator: 'detrlab COCOeval (bbox), pycocotools semantics (cocodataset/cocoapi cocoeval.py)',
  };
}
