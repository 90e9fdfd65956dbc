import { defineCommand } from '../command.js';
import { textTable } from '../../viz/table.js';
import { DEMO_SCHEMA, makeDemo } from '../../coco/demo/make_demo.js';
import { countTable } from '../../coco/counts.js';
import { datasetTotals } from '../../coco/prepare_data.js';

export const makeDemoCommand = defineCommand({
  name: 'make-demo',
  summary: 'render the embedded demo dataset (COCO format, 20 classes, long-tailed; deterministic from --seed)',
  schema: DEMO_SCHEMA,
  usage: 'example: detrlab make-demo --out data/demo   (CI: --images-per-split 16)',
  async run(p) {
    const d = await makeDemo(p);
    console.log(`${textTable(datasetTotals(d.manifest))}\n\n${textTable(countTable(d.manifest.counts))}`);
    console.log(`\n${d.skipped ? 'up to date' : 'wrote'} ${d.out} (${d.seconds.toFixed(1)} s)`);
  },
});
