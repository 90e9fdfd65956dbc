import * as path from 'node:path';
import { defineCommand } from '../command.js';
import { textTable } from '../../viz/table.js';
import { makeSubset, SUBSET_SCHEMA } from '../../coco/subset.js';
import { countTable } from '../../coco/counts.js';

export const subsetCommand = defineCommand({
  name: 'subset',
  summary:
    'keep K classes of a COCO root: COCO-format annotation files, label_map.json, subset.json with per-class counts',
  schema: SUBSET_SCHEMA,
  usage: 'example: detrlab subset --coco-root data/coco --out-root data/coco_subset --classes person bicycle car',
  async run(p) {
    const s = await makeSubset(p);
    console.log(textTable(countTable(s.manifest.counts)));
    const totals = Object.entries(s.manifest.totals)
      .map(([k, v]) => `${k}: ${v.images} images, ${v.annotations} annotations`)
      .join('; ');
    console.log(
      `\n${s.skipped ? 'up to date' : 'wrote'} ${path.join(s.outRoot, 'subset.json')} and label_map.json (${s.labelMap.classes.length} classes; ${totals}) in ${s.seconds.toFixed(1)} s`,
    );
  },
});
