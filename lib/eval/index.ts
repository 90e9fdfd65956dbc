// Evaluation stages (04 eval, 05 visualize), prediction over a split, diagnostics, per-image matching.
export { matchImage } from './error_match.js';
export type { PredictionOutcome, PredictionResult, ImageMatch } from './error_match.js';
export { predictSplit, evaluateSplit, batchResults } from './inference.js';
export type { PredictOptions, InferenceCounts, SplitEvaluation } from './inference.js';
export * from './stage_inputs.js';
export * from './eval_tables.js';
export * from './eval_stage.js';
export * from './visualize_stage.js';
