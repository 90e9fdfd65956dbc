/**
 * Stage 04 (`detrlab eval`, notebook 04; the seed's `eval_coco`): a run's checkpoint on a split, no score
 * threshold by default, COCOeval with pycocotools semantics. Writes under `<run>/metrics/`:
 *   <split>_metrics.json     the 12 stats by name and in order, per-class AP/AP50/AP75/AR, counts, params,
 *                            and `source` (checkpoint fingerprint, data root, sizes) so later stages can
 *                            tell whether the detections are still those of the current checkpoint
 *   detections_<split>.json  COCO results format, original image coordinates and category ids
 *   tables.md                the seed's tables (tables_<split>.md for splits other than val)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CocoDataset, CocoResult } from '../coco/types.js';
import { Diagnostics, writeDiagnostics } from './diagnostics.js';
import { writeFileAtomic, writeJsonAtomic, readJson } from '../io/atomic.js';
import { int, num, resolveParams, Schema } from '../params/schema.js';
import { cocoEvalReport, CocoEvalReport } from '../cocoeval/eval_report.js';
import { evaluateSplit, InferenceCounts, SplitEvaluation } from './inference.js';
import { evalTables, evalTablesMarkdown, EvalTables, perClassApChart, prCurveChart } from './eval_tables.js';
import type { VlSpec } from '../viz/vega_render.js';
import {
  evalLoader,
  firstImages,
  Fingerprint,
  MODEL_INPUT_SCHEMA,
  ModelInputParams,
  ModelInputs,
  openModelInputs,
  withRunDataRoot,
  StageOverrides,
  readSplitGroundTruth,
} from './stage_inputs.js';
import { readCocoResults } from '../cocoeval/results_io.js';

export interface EvalStageParams extends ModelInputParams {
  scoreThr: number;
  maxImages: number;
}

export const EVAL_STAGE_SCHEMA: Schema<EvalStageParams> = {
  ...MODEL_INPUT_SCHEMA,
  scoreThr: num(
    0,
    'keep detections with score > this (0 = keep all queries, as DETR for mAP; a threshold lowers mAP)',
    { min: 0, max: 1 },
  ),
  maxImages: int(0, 'evaluate the first N images by id (0 = all)', { min: 0 }),
};

/** What the detections were made from: enough to tell whether they are still current. */
export interface DetectionSource {
  checkpoint: Fingerprint;
  dataRoot: string;
  split: string;
  scoreThr: number;
  maxImages: number;
  valSize: number;
  maxSize: number;
}

export interface ValMetrics extends CocoEvalReport {
  run: string;
  split: string;
  source: DetectionSource;
  inference: InferenceCounts & { backend: string; workers: number; batchSize: number };
  stageParams: EvalStageParams;
}

export interface EvalStageResult {
  metrics: ValMetrics;
  tables: EvalTables;
  /** Per-class AP / AP50 bars and the precision–recall curves (vega-lite specs for `show()`). */
  charts: { perClass: VlSpec; prCurve: VlSpec } & Diagnostics['charts'];
  /** The F1-optimal score threshold (IoU .50), the default of visualize and error-analysis. */
  bestScoreThr: number;
  /** diagnostics_<split>.json, labels_overview.json, results.csv (those written). */
  diagnosticFiles: string[];
  files: { metrics: string; detections: string; tables: string };
}

export const metricsFiles = (run: string, split: string) => ({
  metrics: path.join(run, 'metrics', `${split}_metrics.json`),
  detections: path.join(run, 'metrics', `detections_${split}.json`),
  tables: path.join(run, 'metrics', split === 'val' ? 'tables.md' : `tables_${split}.md`),
});

const sourceOf = (p: EvalStageParams, inputs: ModelInputs): DetectionSource => ({
  checkpoint: inputs.checkpoint.fingerprint,
  dataRoot: path.resolve(p.dataRoot),
  split: p.split,
  scoreThr: p.scoreThr,
  maxImages: p.maxImages,
  valSize: inputs.augment.valSize,
  maxSize: inputs.augment.maxSize,
});

function writeEvalFiles(p: EvalStageParams, metrics: ValMetrics, results: CocoResult[]): EvalStageResult['files'] {
  const files = metricsFiles(p.run, p.split);
  writeFileAtomic(files.detections, JSON.stringify(results));
  writeJsonAtomic(files.metrics, metrics);
  const s = metrics.source,
    inf = metrics.inference;
  const lines = [
    `checkpoint: \`${s.checkpoint.path}\``,
    `data: \`${p.dataRoot}\` split \`${p.split}\`, ${inf.images} images${p.maxImages ? ` (first ${p.maxImages} by id)` : ''}, resized to shortest side ${s.valSize} (max ${s.maxSize})`,
    `score threshold: ${p.scoreThr > 0 ? `${p.scoreThr} (mAP is truncated by it)` : 'none (every query kept, as DETR evaluates)'}; ${inf.detections} detections`,
    `inference: ${inf.backend}, ${inf.workers} worker(s), batch ${inf.batchSize}, ${inf.imgPerS.toFixed(2)} img/s`,
  ];
  writeFileAtomic(
    files.tables,
    evalTablesMarkdown(metrics, { title: `Evaluation of ${path.basename(p.run)} on ${p.split}`, lines }),
  );
  return files;
}

/** Runs stage 04: predict, evaluate, write the three files; returns the metrics and the tables. */
export async function runEval(overrides: StageOverrides<EvalStageParams> = {}): Promise<EvalStageResult> {
  const p = withRunDataRoot(resolveParams(EVAL_STAGE_SCHEMA, overrides));
  const inputs = await openModelInputs(p);
  let ev: SplitEvaluation;
  const evaluated = firstImages(inputs.split, p.maxImages);
  try {
    const loader = evalLoader(evaluated, inputs.augment, p.batchSize);
    ev = await evaluateSplit(inputs.predictor, loader, inputs.gt, {
      scoreThr: p.scoreThr,
      progress: !p.quiet,
      label: `eval ${p.split}`,
    });
  } finally {
    await inputs.predictor.dispose();
  }
  const report = cocoEvalReport(ev.eval);
  if (p.scoreThr > 0)
    report.warnings.push(
      `--score-thr ${p.scoreThr} drops low-scoring detections: recall is truncated and mAP is lower than DETR's (use 0 for mAP)`,
    );
  const metrics: ValMetrics = {
    run: p.run,
    split: p.split,
    ...report,
    source: sourceOf(p, inputs),
    inference: {
      ...ev.counts,
      backend: inputs.engine.backend,
      workers: inputs.predictor.workers,
      batchSize: p.batchSize,
    },
    stageParams: p,
  };
  const files = writeEvalFiles(p, metrics, ev.results);
  let trainGt: CocoDataset | undefined;
  try {
    trainGt = readSplitGroundTruth(p.dataRoot, 'train');
  } catch {
    trainGt = undefined;
  } // a val-only subset
  const diag = writeDiagnostics({
    run: p.run,
    split: p.split,
    gt: inputs.gt,
    imageIds: evaluated.records.map((r) => r.imageId),
    results: ev.results,
    evalResult: ev.eval,
    trainGt,
  });
  const charts = { perClass: perClassApChart(metrics), prCurve: prCurveChart(ev.eval), ...diag.charts };
  return {
    metrics,
    tables: evalTables(metrics),
    charts,
    files,
    bestScoreThr: diag.bestScoreThr,
    diagnosticFiles: diag.files,
  };
}

/** The metrics file of an earlier `eval`, if any. */
export function readValMetrics(run: string, split = 'val'): ValMetrics | undefined {
  const f = metricsFiles(run, split).metrics;
  return fs.existsSync(f) ? readJson<ValMetrics>(f) : undefined;
}

/**
 * The detections of an earlier `eval` when they are still those of `need`: same checkpoint file (path,
 * size, mtime), data root, split and sizes; made with a threshold ≤ the one needed; covering the images
 * needed (both stages take the first N images by id). Else `reason` says why not.
 */
export function readFreshDetections(run: string, need: DetectionSource): { results?: CocoResult[]; reason: string } {
  const files = metricsFiles(run, need.split);
  const m = readValMetrics(run, need.split);
  if (!m || !fs.existsSync(files.detections)) return { reason: `no ${files.detections}` };
  const s = m.source,
    c = need.checkpoint;
  if (!s || s.checkpoint.path !== c.path || s.checkpoint.bytes !== c.bytes || s.checkpoint.mtimeMs !== c.mtimeMs)
    return { reason: 'made from another checkpoint (or one rewritten since)' };
  if (s.dataRoot !== need.dataRoot || s.valSize !== need.valSize || s.maxSize !== need.maxSize)
    return { reason: 'made with another data root or image size' };
  if (s.scoreThr > need.scoreThr) return { reason: `made with --score-thr ${s.scoreThr} > ${need.scoreThr}` };
  if (s.maxImages > 0 && (need.maxImages === 0 || need.maxImages > s.maxImages))
    return { reason: `covers only the first ${s.maxImages} images` };
  return { results: readCocoResults(files.detections), reason: `reusing ${files.detections}` };
}
