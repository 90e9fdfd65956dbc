// COCO formats, streaming reads, the subset/prepare/make-demo stages, previews. (Import the COCO record
// types from './types.js' directly; lib/detr exports its own CocoResult, lib/crops its own LabelMap.)
export type { CocoImage, CocoCategory, CocoAnnotation, CocoDataset, BoxXywhAbs } from './types.js';
export type { PerClassCount, PerClassCounts, DatasetManifest, SplitName } from './subset_types.js';
export { imageDirName } from './subset_types.js';
export * from './categories.js';
export * from './json_items.js';
export * from './counts.js';
export * from './subset.js';
export * from './prepare.js';
export * from './prepare_data.js';
export * from './preview.js';
export { makeDemo, DEMO_SCHEMA, DEMO_SIZES } from './demo/make_demo.js';
export type { DemoParams, DemoSummary } from './demo/make_demo.js';
export { DEMO_CLASSES } from './demo/classes.js';
export type { DemoClass } from './demo/classes.js';
