/**
 * The detection diagnostics stage 04 writes beside its metrics, as data files and charts:
 *   <run>/metrics/diagnostics_<split>.json  P/R/F1-vs-score curves per class (IoU .50), the F1-optimal
 *                                           score threshold, the confusion matrix with background
 *                                           (counts + row-normalised) at IoU > .50 and that threshold
 *   <run>/metrics/labels_overview.json      the train split's labels overview (class counts, box size,
 *                                           aspect and position distributions)
 *   <run>/metrics/results.csv               per-epoch train/val losses and mAP / mAP50 from log.jsonl
 * Later stages read `bestScoreThr` as their default score threshold (`defaultScoreThr`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CocoDataset, CocoResult } from '../coco/types.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { readLog } from '../io/run_dir.js';
import { resultsCsv, resultsFigure, resultsTable } from '../viz/results_figure.js';
import type { VlSpec } from '../viz/vega_render.js';
import type { CocoEvalResult } from '../cocoeval/coco_eval.js';
import { confidenceCurves, ConfidenceCurves } from './confidence_curves.js';
import { confusionMatrix, ConfusionMatrix } from './confusion_matrix.js';
import { labelsOverview, LabelsOverview } from './labels_overview.js';
import { confidenceChart, confusionChart, labelsOverviewChart, perClassPrChart } from './diagnostic_charts.js';

export const DIAGNOSTICS_IOU = 0.5;
/** The score threshold later stages use when the run has no diagnostics file (Ultralytics' conf default is 0.25). */
export const FALLBACK_SCORE_THR = 0.3;

export interface DiagnosticsFile {
  split: string;
  iouThr: number;
  bestScoreThr: number;
  confidence: ConfidenceCurves;
  confusion: ConfusionMatrix;
}

export const diagnosticsFile = (run: string, split: string) => path.join(run, 'metrics', `diagnostics_${split}.json`);

export interface Diagnostics {
  bestScoreThr: number;
  charts: {
    results?: VlSpec;
    confusionCounts: VlSpec;
    confusionNormalized: VlSpec;
    confidence: VlSpec;
    perClassPr: VlSpec;
    labels?: VlSpec;
  };
  files: string[];
}

/** The ground truth of the evaluated images only (so #GT counts what the detector was shown). */
const restrict = (gt: CocoDataset, ids: Set<number>): CocoDataset => ({
  ...gt,
  images: gt.images.filter((i) => ids.has(i.id)),
  annotations: gt.annotations.filter((a) => ids.has(a.image_id)),
});

export function writeDiagnostics(o: {
  run: string;
  split: string;
  gt: CocoDataset;
  imageIds: number[];
  results: CocoResult[];
  evalResult: CocoEvalResult;
  trainGt?: CocoDataset;
}): Diagnostics {
  const gt = restrict(o.gt, new Set(o.imageIds));
  const confidence = confidenceCurves(gt, o.results, DIAGNOSTICS_IOU);
  const bestScoreThr = confidence.best.threshold;
  const confusion = confusionMatrix(gt, o.results, DIAGNOSTICS_IOU, bestScoreThr);
  const files = [diagnosticsFile(o.run, o.split)];
  writeJsonAtomic(files[0], {
    split: o.split,
    iouThr: DIAGNOSTICS_IOU,
    bestScoreThr,
    confidence,
    confusion,
  } satisfies DiagnosticsFile);
  let labels: LabelsOverview | undefined;
  if (o.trainGt) {
    labels = labelsOverview(o.trainGt);
    files.push(path.join(o.run, 'metrics', 'labels_overview.json'));
    writeJsonAtomic(files[files.length - 1], labels);
  }
  const log = readLog(path.join(o.run, 'log.jsonl'));
  if (log.length) {
    files.push(path.join(o.run, 'metrics', 'results.csv'));
    writeFileAtomic(files[files.length - 1], resultsCsv(resultsTable(log)));
  }
  const names = new Map(o.gt.categories.map((c) => [c.id, c.name]));
  return {
    bestScoreThr,
    files,
    charts: {
      ...(log.length ? { results: resultsFigure(log, `Results · ${path.basename(o.run)}`) } : {}),
      confusionCounts: confusionChart(confusion, false),
      confusionNormalized: confusionChart(confusion, true),
      confidence: confidenceChart(confidence),
      perClassPr: perClassPrChart(o.evalResult, names),
      ...(labels ? { labels: labelsOverviewChart(labels, 'train') } : {}),
    },
  };
}

/**
 * The score threshold for overlays and the error analysis when the user gives none (a negative value):
 * the F1-optimal one of the run's evaluation, else FALLBACK_SCORE_THR. Says which it took.
 */
export function defaultScoreThr(run: string, split: string, given: number): { scoreThr: number; why: string } {
  if (given >= 0) return { scoreThr: given, why: 'given' };
  const f = diagnosticsFile(run, split);
  try {
    const d = JSON.parse(fs.readFileSync(f, 'utf8')) as Partial<DiagnosticsFile>;
    if (typeof d.bestScoreThr === 'number' && Number.isFinite(d.bestScoreThr))
      return { scoreThr: d.bestScoreThr, why: `the F1-optimal threshold of ${f}` };
  } catch {
    /* no evaluation yet */
  }
  return { scoreThr: FALLBACK_SCORE_THR, why: `no ${f} yet (run eval first for the F1-optimal one)` };
}
