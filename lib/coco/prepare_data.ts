/**
 * Notebook 01's one call: the demo profile renders the embedded dataset (make-demo), the coco profile
 * downloads COCO 2017 (prepare-coco). Both leave a COCO root in the same layout with a dataset.json.
 *
 *   const data = await prepareData({ source: 'demo', dataRoot: 'data/demo' });
 *   await show(datasetTotals(data.manifest)); await show(longTailChart(data.manifest.counts));
 */
import { bool, int, oneOf, resolveParams, Schema, str, strList } from '../params/schema.js';
import { makeDemo } from './demo/make_demo.js';
import { prepareCoco } from './prepare.js';
import { DatasetManifest } from './subset_types.js';
import type { StageOverrides } from '../params/overrides.js';

export interface PrepareDataParams {
  source: 'demo' | 'coco';
  dataRoot: string;
  /** demo: generator seed and sizes. */
  seed: number;
  imagesPerSplit: number;
  /** coco: what to fetch. */
  download: boolean;
  splits: string[];
  annotationsOnly: boolean;
  mirror: string;
  quiet: boolean;
}

export const PREPARE_DATA_SCHEMA: Schema<PrepareDataParams> = {
  source: oneOf(['demo', 'coco'] as const, 'demo', 'demo: render the embedded dataset; coco: download COCO 2017'),
  dataRoot: str('data/demo', 'COCO root to write'),
  seed: int(0, 'demo generator seed', { min: 0 }),
  imagesPerSplit: int(0, 'demo: images per split (0 = 2,000 train / 400 val)', { min: 0 }),
  download: bool(true, 'coco: download missing archives'),
  splits: strList(['train', 'val'], 'coco: splits'),
  annotationsOnly: bool(false, 'coco: annotation files only'),
  mirror: str('', 'coco: base URL replacing http://images.cocodataset.org'),
  quiet: bool(false, 'no progress bars'),
};

export interface PreparedData {
  root: string;
  manifest: DatasetManifest;
  actions: string[];
  seconds: number;
}

export async function prepareData(overrides: StageOverrides<PrepareDataParams> = {}): Promise<PreparedData> {
  const p = resolveParams(PREPARE_DATA_SCHEMA, overrides);
  if (p.source === 'demo') {
    const d = await makeDemo({ out: p.dataRoot, seed: p.seed, imagesPerSplit: p.imagesPerSplit, quiet: p.quiet });
    return {
      root: d.out,
      manifest: d.manifest,
      actions: [d.skipped ? 'demo dataset: present' : `demo dataset: rendered in ${d.seconds.toFixed(1)} s`],
      seconds: d.seconds,
    };
  }
  const c = await prepareCoco({
    dataRoot: p.dataRoot,
    download: p.download,
    splits: p.splits,
    annotationsOnly: p.annotationsOnly,
    mirror: p.mirror,
    quiet: p.quiet,
  });
  return { root: c.root, manifest: c.manifest, actions: c.actions, seconds: c.seconds };
}

/** One row per split: images, annotations, crowd regions, classes present. */
export function datasetTotals(m: {
  counts: DatasetManifest['counts'];
  totals: DatasetManifest['totals'];
}): Array<Record<string, string | number>> {
  return Object.keys(m.totals).map((split) => {
    const c = Object.values(m.counts[split] ?? {});
    return {
      split,
      images: m.totals[split].images,
      annotations: m.totals[split].annotations,
      crowd: c.reduce((s, x) => s + x.crowd, 0),
      'classes present': c.filter((x) => x.boxes + x.crowd > 0).length,
    };
  });
}
