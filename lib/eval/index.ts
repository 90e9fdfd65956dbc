// Evaluation stages (05 eval, 07 visualize), prediction over a split, diagnostics and the error taxonomy.
export { analyzeErrors, DEFAULT_ERROR_ANALYSIS, OUTCOMES, ERROR_KINDS, errorTotal } from './error_analysis.js';
export type {
  ErrorAnalysis,
  ErrorAnalysisOptions,
  Outcome,
  ErrorKind,
  OutcomeCounts,
  ImageErrors,
  SizeName,
} from './error_analysis.js';
export { matchImage } from './error_match.js';
export type { PredictionOutcome, PredictionResult, ImageMatch } from './error_match.js';
export { interpret } from './interpret.js';
export { predictSplit, evaluateSplit, batchResults } from './inference.js';
export type { PredictOptions, InferenceCounts, SplitEvaluation } from './inference.js';
export * from './stage_inputs.js';
export * from './eval_tables.js';
export * from './eval_stage.js';
export * from './visualize_stage.js';
