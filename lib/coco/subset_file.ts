/**
 * Subsets one COCO annotation file while streaming it: keeps the chosen categories' annotations (crowd
 * regions included, iscrowd=1) and the images that have at least one of them. Output is COCO format
 * (loads in pycocotools): original category ids, annotation ids renumbered 1, 2, 3, … (id 0 would be
 * unmatchable in COCOeval: pycocotools `cocoeval.py:evaluateImg` stores matched ids with 0 = unmatched), other fields
 * copied unchanged. Written atomically.
 */
import { UserError } from '../params/user_error.js';
import { CocoCategory } from './types.js';
import { ClassCounter, checkCategories } from './counts.js';
import { ArrayItems, AtomicTextWriter } from './file_writer.js';
import { forEachItem, JsonEngine, locateCoco, readRangeJson } from './json_items.js';
import { ByteRange } from './json_scan.js';
import { PerClassCounts } from './subset_types.js';

export interface SubsetFileResult {
  counts: PerClassCounts;
  images: number;
  annotations: number;
  /** Image ids referenced by kept annotations but missing from `images` (a broken source; reported, not fatal). */
  dangling: number;
}

type Ann = { id?: unknown; image_id?: unknown; category_id?: unknown; bbox?: unknown; iscrowd?: unknown };

function checkAnnotation(a: Ann, index: number, where: string): void {
  const bad = (what: string) => new UserError(`${where}: annotations[${index}] (id ${String(a?.id)}) ${what}`);
  if (typeof a !== 'object' || a === null) throw bad('is not an object');
  if (typeof a.image_id !== 'number') throw bad('has no numeric image_id');
  if (
    !Array.isArray(a.bbox) ||
    a.bbox.length !== 4 ||
    a.bbox.some((v) => typeof v !== 'number' || !Number.isFinite(v))
  ) {
    throw bad('has no [x, y, w, h] bbox of 4 finite numbers');
  }
}

/** A located COCO file: byte ranges of its top-level values and its categories. */
export interface IndexedCoco {
  file: string;
  ranges: Map<string, ByteRange>;
  categories: CocoCategory[];
}

/** One byte scan of the file plus one small JSON.parse of its categories. */
export async function indexCoco(file: string, onBytes?: (n: number) => void): Promise<IndexedCoco> {
  const ranges = await locateCoco(file, onBytes);
  return {
    file,
    ranges,
    categories: checkCategories(await readRangeJson(file, ranges.get('categories')!, 'categories'), file),
  };
}

export async function subsetFile(
  ix: IndexedCoco,
  dst: string,
  chosenIds: readonly number[],
  engine: JsonEngine,
  onBytes?: (n: number) => void,
): Promise<SubsetFileResult> {
  const { file: src, ranges, categories: sourceCategories } = ix;
  const chosen = new Map(sourceCategories.filter((c) => chosenIds.includes(c.id)).map((c) => [c.id, c]));
  const counter = new ClassCounter([...chosen.values()].map((c) => c.name));
  const keepImages = new Set<number>();
  const w = new AtomicTextWriter(dst);
  try {
    const head: Record<string, unknown> = {};
    for (const key of ['info', 'licenses'])
      if (ranges.has(key)) head[key] = await readRangeJson(src, ranges.get(key)!, key);
    w.write(JSON.stringify(head).slice(0, -1) + (Object.keys(head).length ? ',' : ''));
    w.write(`"categories":${JSON.stringify([...chosen.values()].sort((a, b) => a.id - b.id))},"annotations":[`);
    const anns = new ArrayItems(w);
    await forEachItem(
      src,
      ranges.get('annotations')!,
      `${src}`,
      (item, i) => {
        const a = item as Ann;
        const cat = chosen.get(a?.category_id as number);
        if (!cat) return;
        checkAnnotation(a, i, src);
        keepImages.add(a.image_id as number);
        counter.add(cat.name, a.image_id as number, a.iscrowd === 1 || a.iscrowd === true);
        anns.add(JSON.stringify({ ...a, id: anns.count + 1 }));
      },
      { engine, onBytes },
    );
    w.write('],"images":[');
    const imgs = new ArrayItems(w);
    const seen = new Set<number>();
    await forEachItem(
      src,
      ranges.get('images')!,
      `${src}`,
      (item) => {
        const id = (item as { id?: unknown })?.id;
        if (typeof id === 'number' && keepImages.has(id)) {
          imgs.add(JSON.stringify(item));
          seen.add(id);
        }
      },
      { engine, onBytes },
    );
    w.write(']}\n');
    w.commit();
    const dangling = [...keepImages].filter((id) => !seen.has(id)).length;
    return { counts: counter.result(), images: imgs.count, annotations: anns.count, dangling };
  } catch (e) {
    w.abort();
    throw e;
  }
}
