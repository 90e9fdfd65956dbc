/**
 * Per-class image / box / crowd counts of COCO files, as rows for tables and a long-tail bar chart.
 */
import { VlSpec } from '../viz/vega_render.js';
import { barChart } from '../viz/charts.js';
import { UserError } from '../params/user_error.js';
import { CocoCategory } from './types.js';
import { PerClassCount, PerClassCounts } from './subset_types.js';
import { forEachItem, JsonEngine, locateCoco, readRangeJson } from './json_items.js';

/** Accumulates counts per class name; an image counts once per class however many boxes it has. */
export class ClassCounter {
  private readonly boxes = new Map<string, number>();
  private readonly crowd = new Map<string, number>();
  private readonly images = new Map<string, Set<number>>();

  constructor(classNames: readonly string[]) {
    for (const c of classNames) {
      this.boxes.set(c, 0);
      this.crowd.set(c, 0);
      this.images.set(c, new Set());
    }
  }

  add(className: string, imageId: number, iscrowd: boolean): void {
    const m = iscrowd ? this.crowd : this.boxes;
    m.set(className, (m.get(className) ?? 0) + 1);
    let s = this.images.get(className);
    if (!s) this.images.set(className, (s = new Set()));
    s.add(imageId);
  }

  result(): PerClassCounts {
    const out: PerClassCounts = {};
    for (const [c, s] of this.images)
      out[c] = { images: s.size, boxes: this.boxes.get(c) ?? 0, crowd: this.crowd.get(c) ?? 0 };
    return out;
  }
}

export const checkCategories = (v: unknown, file: string): CocoCategory[] => {
  if (!Array.isArray(v) || v.some((c) => typeof c?.id !== 'number' || typeof c?.name !== 'string')) {
    throw new UserError(`${file}: 'categories' must be a list of {id, name}`);
  }
  return v as CocoCategory[];
};

export interface FileCounts {
  counts: PerClassCounts;
  images: number;
  annotations: number;
  categories: CocoCategory[];
}

/** Streams one COCO file and counts every category's images, boxes and crowd regions. */
export async function countCocoFile(file: string, engine: JsonEngine = 'split'): Promise<FileCounts> {
  const ranges = await locateCoco(file);
  const categories = checkCategories(await readRangeJson(file, ranges.get('categories')!, 'categories'), file);
  const nameOf = new Map(categories.map((c) => [c.id, c.name]));
  const counter = new ClassCounter(categories.map((c) => c.name));
  const annotations = await forEachItem(
    file,
    ranges.get('annotations')!,
    `${file}: annotations`,
    (a) => {
      const r = a as { category_id: number; image_id: number; iscrowd?: number };
      const name = nameOf.get(r.category_id);
      if (name === undefined)
        throw new UserError(
          `${file}: an annotation has category_id ${String(r.category_id)}, which is not in 'categories'`,
        );
      counter.add(name, r.image_id, r.iscrowd === 1);
    },
    { engine },
  );
  const images = await forEachItem(file, ranges.get('images')!, `${file}: images`, () => undefined, { engine });
  return { counts: counter.result(), images, annotations, categories };
}

export interface CountRow {
  class: string;
  split: string;
  images: number;
  boxes: number;
  crowd: number;
  [k: string]: unknown;
}

/** One row per (class, split), classes in descending box count of the first split. */
export function countRows(counts: Record<string, PerClassCounts>): CountRow[] {
  const splits = Object.keys(counts);
  const classes = [...new Set(splits.flatMap((s) => Object.keys(counts[s])))];
  const total = (c: string) => splits.reduce((n, s) => n + (counts[s][c]?.boxes ?? 0), 0);
  classes.sort((a, b) => total(b) - total(a) || a.localeCompare(b));
  const zero: PerClassCount = { images: 0, boxes: 0, crowd: 0 };
  return classes.flatMap((c) => splits.map((s) => ({ class: c, split: s, ...(counts[s][c] ?? zero) })));
}

/** A wide table: one row per class with `<split> images`, `<split> boxes`, `<split> crowd` columns. */
export function countTable(counts: Record<string, PerClassCounts>): Array<Record<string, string | number>> {
  const byClass = new Map<string, Record<string, string | number>>();
  for (const r of countRows(counts)) {
    const row = byClass.get(r.class) ?? { class: r.class };
    Object.assign(row, {
      [`${r.split} images`]: r.images,
      [`${r.split} boxes`]: r.boxes,
      [`${r.split} crowd`]: r.crowd,
    });
    byClass.set(r.class, row);
  }
  return [...byClass.values()];
}

/** Horizontal bars per class sorted by total (the long tail), stacked by split. */
export function longTailChart(
  counts: Record<string, PerClassCounts>,
  metric: 'boxes' | 'images' = 'boxes',
  title?: string,
): VlSpec {
  return barChart(countRows(counts), 'class', metric, {
    stack: 'split',
    title: title ?? `${metric === 'boxes' ? 'Boxes' : 'Images'} per class`,
    xTitle: metric,
    yTitle: 'class',
  });
}
