import { defineCommand } from '../command.js';
import { textTable } from '../../viz/table.js';
import { PREPARE_SCHEMA, prepareCoco } from '../../coco/prepare.js';
import { datasetTotals } from '../../coco/prepare_data.js';

export const prepareCocoCommand = defineCommand({
  name: 'prepare-coco',
  summary: 'download and unpack COCO 2017 (resumable, verified, safe unzip) into <data-root>/{annotations,images}',
  schema: PREPARE_SCHEMA,
  usage: 'example: detrlab prepare-coco --data-root data/coco --download --splits val --annotations-only',
  async run(p) {
    const r = await prepareCoco(p);
    console.log(r.actions.map((a) => `  ${a}`).join('\n'));
    console.log(
      `\n${textTable(datasetTotals(r.manifest))}\n\nwrote ${r.root}/dataset.json (${r.seconds.toFixed(1)} s)`,
    );
  },
});
