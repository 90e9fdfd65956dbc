// COCO box evaluation (pycocotools semantics) and error analysis: the public surface.
export { evaluateCoco, statsRecord } from './coco_eval.js';
export type { CocoEvalOptions, CocoEvalResult, CategoryMetrics } from './coco_eval.js';
export type { EvalArrays } from './accumulate.js';
export { defaultEvalParams, resolveEvalParams, DEFAULT_AREA_RNG, DEFAULT_AREA_LBL } from './params.js';
export type { EvalParams } from './params.js';
export { STAT_NAMES, summarizeStats, summaryLines } from './summarize.js';
export type { StatName } from './summarize.js';
export { cocoEvalReport } from './eval_report.js';
export type { CocoEvalReport, CategoryAp } from './eval_report.js';
export { readCocoDataset, readCocoResults, parseJsonLenient } from './results_io.js';
export { analyzeErrors, DEFAULT_ERROR_ANALYSIS, OUTCOMES, ERROR_KINDS, errorTotal } from './error_analysis.js';
export type { ErrorAnalysis, ErrorAnalysisOptions, Outcome, ErrorKind, OutcomeCounts, ImageErrors, SizeName } from './error_analysis.js';
export { matchImage } from './error_match.js';
export type { PredictionOutcome, PredictionResult, ImageMatch } from './error_match.js';
export { interpret } from './interpret.js';
