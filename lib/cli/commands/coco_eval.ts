/**
 * `detrlab coco-eval --gt GT.json --dt DETS.json --out OUT.json`: pycocotools-compatible box evaluation of
 * a COCO results file. Prints pycocotools' summary lines; OUT holds the 12 stats (summarize() order and by
 * name), per-category AP keyed by category id and name, and the parameters used (lib/cocoeval/eval_report.ts).
 */
import { defineCommand } from '../command.js';
import { numList, str } from '../../params/schema.js';
import { UserError } from '../../params/user_error.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { evaluateCoco } from '../../cocoeval/coco_eval.js';
import { cocoEvalReport } from '../../cocoeval/eval_report.js';
import { readCocoDataset, streamCocoResults } from '../../cocoeval/results_io.js';
import { checkOutputFile } from '../../io/output_path.js';

export const cocoEvalCommand = defineCommand({
  name: 'coco-eval',
  summary: 'evaluate a COCO results file against COCO ground truth (pycocotools bbox semantics)',
  schema: {
    gt: str('', 'ground truth in COCO format (instances_val2017.json)'),
    dt: str('', 'detections in COCO results format: [{image_id, category_id, bbox: [x,y,w,h], score}]'),
    out: str('', 'where to write the metrics JSON (optional)'),
    catIds: numList([], 'evaluate only these category ids (default: every GT category)'),
    imgIds: numList([], 'evaluate only these image ids (default: every GT image)'),
    maxDets: numList([1, 10, 100], 'max detections per image and category (summarize() reads the 3 values)'),
  },
  usage:
    'example: detrlab coco-eval --gt data/coco/annotations/instances_val2017.json --dt runs/x/detections.json --out runs/x/metrics/coco_eval.json',
  async run(p) {
    if (!p.gt) throw new UserError('--gt is required (a COCO ground-truth JSON file)');
    if (!p.dt) throw new UserError('--dt is required (a COCO results JSON file)');
    // pycocotools' summarize() reads maxDets[0..2] (and stats[0] the literal 100): fewer values cannot be summarised.
    if (p.maxDets.length < 3)
      throw new UserError(
        `--max-dets needs 3 values (summarize() reads maxDets[0], [1], [2]), got ${p.maxDets.join(' ') || 'none'}`,
      );
    const bad = p.maxDets.find((m) => !Number.isInteger(m) || m < 1);
    if (bad !== undefined) throw new UserError(`--max-dets values must be positive integers, got ${bad}`);
    if (!p.maxDets.includes(100))
      console.warn("warning: --max-dets lacks 100; pycocotools' first stat (AP) reads maxDets=100 and so reports -1");
    if (p.out) checkOutputFile(p.out, '--out'); // before the evaluation, not after it
    const gt = readCocoDataset(p.gt);
    const dets = await streamCocoResults(p.dt);
    const r = evaluateCoco(gt, dets, {
      gtSource: p.gt,
      dtSource: p.dt,
      params: {
        maxDets: p.maxDets,
        ...(p.catIds.length ? { catIds: p.catIds } : {}),
        ...(p.imgIds.length ? { imgIds: p.imgIds } : {}),
      },
    });
    for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
    console.log(r.summary.join('\n'));
    if (p.out) {
      writeJsonAtomic(p.out, { gt: p.gt, dt: p.dt, ...cocoEvalReport(r) });
      console.log(`wrote ${p.out}`);
    }
  },
});
