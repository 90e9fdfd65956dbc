// COCO box evaluation with pycocotools' semantics (cocoeval.py, coco.py): COCO json in, numbers out. No model code.
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
