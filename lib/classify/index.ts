// Crop classifier and the real vs real + synth ablation (stage 09).
export * from './classifier_model.js';
export * from './backbone_weights.js';
export * from './classifier_params.js';
export * from './crop_samples.js';
export * from './crop_augment.js';
export * from './class_metrics.js';
export * from './sample_order.js';
export { ImageCache, type PixelBatch } from './image_cache.js';
export { ClassifierTrainer, crossEntropy, predictBatch, cosineLr } from './classifier_step.js';
export * from './train_run.js';
export * from './ablation_plan.js';
export * from './ablation.js';
export * from './ablation_json.js';
export * from './ablation_report.js';
export * from './ablation_tables.js';
export * from './ablation_charts.js';
