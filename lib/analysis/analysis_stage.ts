/**
 * Stage 06 (`detrlab error-analysis`, notebook 06): the seed's error taxonomy (lib/eval `analyzeErrors`,
 * matching rule in lib/eval/error_match.ts) on the first N val images. Detections come from `eval`'s
 * `metrics/detections_<split>.json` when they are still those of the checkpoint (readFreshDetections),
 * else the model predicts them (no threshold, so the AP figures quoted are right). Writes `<run>/analysis/`:
 *   error_analysis.json  counts per outcome, class, size; confusion; worst images; COCO stats; interpretation
 *   errors_by_class.md, errors_by_size.md, confusion.md, worst_images.json, interpretation.md
 *   errors_by_class.png, errors_by_size.png, confusion.png (when any cls_error), worst/<rank>_<id>.png,
 *   worst_images.png (contact sheet of those)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CocoDataset, CocoResult } from '../coco/types.js';
import { DetectionSplit, loadDetectionSplit } from '../data/dataset.js';
import { analyzeErrors, ErrorAnalysis } from './error_analysis.js';
import { evaluateCoco } from '../cocoeval/coco_eval.js';
import { interpret } from './interpret.js';
import { predictSplit } from '../eval/inference.js';
import { DetectionSource, readFreshDetections } from '../eval/eval_stage.js';
import {
  evalLoader,
  firstImages,
  MODEL_INPUT_SCHEMA,
  ModelInputParams,
  openModelInputs,
  withRunDataRoot,
  readSplitGroundTruth,
  resolveCheckpoint,
  StageOverrides,
  valAugment,
} from '../eval/stage_inputs.js';
import { defaultScoreThr } from '../eval/diagnostics.js';
import type { StatName } from '../cocoeval/summarize.js';
import { bool, int, num, resolveParams, Schema } from '../params/schema.js';
import { writeAnalysisFiles, AnalysisFiles, AnalysisCharts } from './analysis_files.js';

export interface ErrorAnalysisParams extends ModelInputParams {
  iouThr: number;
  scoreThr: number;
  maxImages: number;
  topImages: number;
  reuse: boolean;
  maxSide: number;
}

export const ERROR_ANALYSIS_SCHEMA: Schema<ErrorAnalysisParams> = {
  ...MODEL_INPUT_SCHEMA,
  iouThr: num(0.5, 'IoU at which a prediction finds a GT', { min: 0.01, max: 1 }),
  scoreThr: num(
    -1,
    "predictions with score ≥ this are analysed (-1: the F1-optimal threshold of the run's eval, else 0.3)",
    { min: -1, max: 1 },
  ),
  maxImages: int(400, 'analyse the first N images by id (0 = all)', { min: 0 }),
  topImages: int(12, 'images with the most errors to list and draw', { min: 0, max: 200 }),
  reuse: bool(true, "reuse eval's detections file when it is still current (--no-reuse: always predict)"),
  maxSide: int(400, 'longer side of each overlay panel in pixels', { min: 64, max: 4096 }),
};

export interface DetectionsFor {
  dets: CocoResult[];
  gt: CocoDataset;
  split: DetectionSplit;
  how: string;
}

export interface ErrorAnalysisResult {
  analysis: ErrorAnalysis;
  /** The 12 COCO stats on the analysed images (all detections, no threshold). */
  metrics: Record<StatName, number>;
  interpretation: string[];
  detections: string;
  files: AnalysisFiles;
  charts: AnalysisCharts;
  /** Contact sheet of the worst images' overlays (PNG), when any could be drawn. */
  worstSheet?: Buffer;
}

/** Eval's detections when current (and `reuse`), else a fresh prediction of the first `maxImages` images. */
export async function detectionsFor(p: ErrorAnalysisParams): Promise<DetectionsFor> {
  const augment = valAugment(p.run, p);
  const need: DetectionSource = {
    checkpoint: resolveCheckpoint(p.run, p.checkpoint).fingerprint,
    dataRoot: path.resolve(p.dataRoot),
    split: p.split,
    scoreThr: 0,
    maxImages: p.maxImages,
    valSize: augment.valSize,
    maxSize: augment.maxSize,
  };
  const fresh = p.reuse ? readFreshDetections(p.run, need) : { reason: '--no-reuse' };
  if (fresh.results)
    return {
      dets: fresh.results,
      gt: readSplitGroundTruth(p.dataRoot, p.split),
      split: await loadDetectionSplit(p.dataRoot, p.split),
      how: fresh.reason,
    };
  const inputs = await openModelInputs(p);
  try {
    const split = firstImages(inputs.split, p.maxImages);
    const dets = await predictSplit(inputs.predictor, evalLoader(split, inputs.augment, p.batchSize), split.labelMap, {
      scoreThr: 0,
      progress: !p.quiet,
      label: 'predict',
    });
    return { dets, gt: inputs.gt, split: inputs.split, how: `predicted (${fresh.reason})` };
  } finally {
    await inputs.predictor.dispose();
  }
}

export async function runErrorAnalysis(
  overrides: StageOverrides<ErrorAnalysisParams> = {},
): Promise<ErrorAnalysisResult> {
  const given = withRunDataRoot(resolveParams(ERROR_ANALYSIS_SCHEMA, overrides));
  const p = { ...given, scoreThr: defaultScoreThr(given.run, given.split, given.scoreThr).scoreThr };
  const d = await detectionsFor(p);
  const analysis = analyzeErrors(d.gt, d.dets, {
    iouThr: p.iouThr,
    scoreThr: p.scoreThr,
    maxImages: p.maxImages,
    topImages: p.topImages,
  });
  const imgIds = firstImages(d.split, p.maxImages).records.map((r) => r.imageId);
  const ev = evaluateCoco(d.gt, d.dets, { quiet: true, params: { imgIds, catIds: [...d.split.labelMap.categoryIds] } });
  const interpretation = interpret(ev.statsByName, analysis);
  const dir = path.join(p.run, 'analysis');
  fs.mkdirSync(dir, { recursive: true });
  const out = await writeAnalysisFiles(
    dir,
    { analysis, metrics: ev.statsByName, interpretation, detections: d.how, params: p },
    d,
  );
  return { analysis, metrics: ev.statsByName, interpretation, detections: d.how, ...out };
}
