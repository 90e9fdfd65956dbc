/** `detrlab visualize --run runs/<run> --num-images 30 --score-thr 0.3`: GT | prediction overlays in <run>/viz/. */
import { defineCommand } from '../command.js';
import { runVisualize, VISUALIZE_SCHEMA } from '../../eval/visualize_stage.js';

export const visualizeCommand = defineCommand({
  name: 'visualize',
  summary: 'draw ground truth (left) and predictions (right) on a seeded sample of images, plus a contact sheet',
  schema: VISUALIZE_SCHEMA,
  usage:
    'example: detrlab visualize --run runs/detr_coco_subset --data-root data/coco_subset --num-images 30 --score-thr 0.3',
  async run(p) {
    const r = await runVisualize(p);
    for (const s of r.skipped) process.stderr.write(`warning: skipped ${s}\n`);
    console.log(`${r.images.length} overlays in ${p.run}/viz; contact sheet ${r.contactSheet}`);
  },
});
