/**
 * `detrlab eval --run runs/<run> [--checkpoint best|last|PATH] --data-root data/<subset> --split val --score-thr 0`
 * (the seed's eval_coco): writes metrics/<split>_metrics.json, metrics/detections_<split>.json, metrics/tables.md.
 */
import { defineCommand } from '../command.js';
import { EVAL_STAGE_SCHEMA, runEval } from '../../eval/eval_stage.js';

export const evalCommand = defineCommand({
  name: 'eval',
  summary: "COCO evaluation of a run's checkpoint on a split (no score threshold: AP integrates the whole PR curve)",
  schema: EVAL_STAGE_SCHEMA,
  usage: 'example: detrlab eval --run runs/detr_coco_subset --data-root data/coco_subset --split val --score-thr 0.0',
  async run(p) {
    const r = await runEval(p);
    for (const w of r.metrics.warnings) process.stderr.write(`warning: ${w}\n`);
    console.log(r.metrics.summary.join('\n'));
    console.log(`wrote ${r.files.metrics}, ${r.files.detections}, ${r.files.tables}, ${r.diagnosticFiles.join(', ')}`);
    console.log(
      `F1-optimal score threshold ${r.bestScoreThr.toFixed(2)} (IoU ≥ 0.5): the default of visualize and error-analysis on this run`,
    );
  },
});
