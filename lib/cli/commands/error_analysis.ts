/** `detrlab error-analysis --run runs/<run> --iou-thr 0.5 --score-thr 0.3 --max-images 400`: <run>/analysis/. */
import { defineCommand } from '../command.js';
import { ERROR_ANALYSIS_SCHEMA, runErrorAnalysis } from '../../analysis/analysis_stage.js';

export const errorAnalysisCommand = defineCommand({
  name: 'error-analysis',
  summary: 'error taxonomy (cls_error, loc_error, missed, false_pos, …) per class and size, confusion, worst images',
  schema: ERROR_ANALYSIS_SCHEMA,
  usage:
    'example: detrlab error-analysis --run runs/detr_coco_subset --data-root data/coco_subset --iou-thr 0.5 --score-thr 0.3 --max-images 400',
  async run(p) {
    const r = await runErrorAnalysis(p);
    for (const w of r.analysis.warnings) process.stderr.write(`warning: ${w}\n`);
    console.log(`detections: ${r.detections}`);
    for (const s of r.interpretation) console.log(`- ${s}`);
    console.log(
      `wrote ${p.run}/analysis/ (${Object.keys(r.files).length} entries, ${r.files.charts.length} charts, ${r.files.overlays.length} overlays)`,
    );
  },
});
