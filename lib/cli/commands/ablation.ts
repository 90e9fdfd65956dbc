/**
 * `detrlab ablation --crops data/crops --synth data/synth --output-dir runs/ablation [--epochs N] [--seeds 0,1,2]`:
 * the real vs real + synth classifier runs and the filled tables (ablation.md, ablation.json). Same function as notebook 09.
 */
import * as path from 'node:path';
import { defineCommand } from '../command.js';
import { ABLATION_SCHEMA } from '../../classify/classifier_params.js';
import { runAblation } from '../../classify/ablation.js';
import { ablationTable, rareClassesTable } from '../../classify/ablation_tables.js';
import { textTable } from '../../viz/table.js';

export const ablationCommand = defineCommand({
  name: 'ablation',
  summary:
    'train the crop classifier on real crops and on real + synthetic rare-class images (same seed, split, schedule, real order); write the ablation tables',
  schema: ABLATION_SCHEMA,
  usage:
    'Examples:\n  detrlab ablation --crops data/crops --synth data/synth --output-dir runs/ablation\n  detrlab ablation --epochs 6 --seeds 0,1,2',
  async run(p) {
    const j = await runAblation(p);
    console.log(`\n${j.synth.note}\n`);
    console.log(textTable(ablationTable(j)));
    console.log('\n' + textTable(rareClassesTable(j)));
    console.log(
      `\nwrote ${path.join(p.outputDir, 'ablation.md')}, ablation.json, charts, and the runs in ${j.runs.map((r) => r.dir).join(', ')}`,
    );
  },
});
