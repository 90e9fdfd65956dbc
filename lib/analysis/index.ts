// Error analysis stage (06): taxonomy tables, charts, worst-image overlays, interpretation.
export * from './analysis_stage.js';
export * from './analysis_tables.js';
export * from './analysis_charts.js';
export * from './analysis_files.js';
export * from './worst_images.js';
export * from './matching_rule.js';
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
export { interpret } from './interpret.js';
