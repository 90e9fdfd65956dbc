/**
 * Crop counts per class and the K rarest classes (by train crops). Stage 07's first half:
 * `detrlab rare-classes --data-root data/demo_subset --k 3`.
 */
import { int, resolveParams, Schema, str } from '../params/schema.js';
import { UserError } from '../params/user_error.js';
import { isCroppable } from './crop_geometry.js';
import { readSubsetRoot, SPLITS, SubsetRoot } from './subset_reader.js';

export interface RareClassesParams {
  dataRoot: string;
  k: number;
  minSize: number;
}

export const RARE_CLASSES_SCHEMA: Schema<RareClassesParams> = {
  dataRoot: str('data/demo_subset', 'subset root (label_map.json, subset.json, annotations/)'),
  k: int(3, 'how many of the rarest classes to choose', { min: 1 }),
  minSize: int(8, 'smallest box side (pixels) that counts as a crop', { min: 1 }),
};

/** A type (not an interface) so that rows pass as plain records to `show()`. */
export type ClassCount = {
  class: string;
  label: number;
  categoryId: number;
  trainCrops: number;
  valCrops: number;
  rare: boolean;
};

/** Crops (non-crowd boxes with both sides ≥ minSize) per class and split, in label order. */
export function countCrops(s: SubsetRoot, minSize: number): Array<Omit<ClassCount, 'rare'>> {
  const rows = s.labelMap.classes.map((name, label) => ({
    class: name,
    label,
    categoryId: s.labelMap.categoryIds[label],
    trainCrops: 0,
    valCrops: 0,
  }));
  const byCat = new Map(rows.map((r) => [r.categoryId, r]));
  for (const split of SPLITS) {
    for (const a of s.instances[split].annotations) {
      const r = byCat.get(a.category_id);
      if (r && isCroppable(a, minSize)) {
        if (split === 'train') r.trainCrops++;
        else r.valCrops++;
      }
    }
  }
  return rows;
}

/** The k classes with the fewest train crops (ties: lower label first), rarest first. */
export function chooseRare(rows: Array<Omit<ClassCount, 'rare'>>, k: number): string[] {
  if (k > rows.length) throw new UserError(`k=${k} but the subset has only ${rows.length} classes`);
  return [...rows]
    .sort((a, b) => a.trainCrops - b.trainCrops || a.label - b.label)
    .slice(0, k)
    .map((r) => r.class);
}

export function rareClassTable(s: SubsetRoot, k: number, minSize: number): { table: ClassCount[]; rare: string[] } {
  const rows = countCrops(s, minSize);
  const rare = chooseRare(rows, k);
  return { table: rows.map((r) => ({ ...r, rare: rare.includes(r.class) })), rare };
}

/** Stage function shared by the CLI and notebook 07. */
export async function rareClasses(
  p: Partial<RareClassesParams> = {},
): Promise<{ table: ClassCount[]; rare: string[] }> {
  const q = resolveParams(RARE_CLASSES_SCHEMA, p);
  return rareClassTable(readSubsetRoot(q.dataRoot), q.k, q.minSize);
}

/** Bars of train and val crops per class, rare classes marked (vega-lite spec for `show`). */
export function cropCountChart(table: ClassCount[], title = 'Crops per class'): Record<string, unknown> {
  const values = table.flatMap((r) => [
    { class: r.class, split: 'train', crops: r.trainCrops, rare: r.rare ? 'rare' : '' },
    { class: r.class, split: 'val', crops: r.valCrops, rare: r.rare ? 'rare' : '' },
  ]);
  return {
    title,
    width: 420,
    height: { step: 14 },
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'class', type: 'nominal', sort: { field: 'crops', op: 'sum', order: 'descending' }, title: null },
      yOffset: { field: 'split' },
      x: { field: 'crops', type: 'quantitative', title: 'crops (non-crowd boxes ≥ min size)' },
      color: { field: 'split', type: 'nominal' },
      opacity: { condition: { test: "datum.rare === 'rare'", value: 1 }, value: 0.45 },
      tooltip: [{ field: 'class' }, { field: 'split' }, { field: 'crops' }, { field: 'rare' }],
    },
  };
}
