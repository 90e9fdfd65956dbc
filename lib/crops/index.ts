export * from './subset_reader.js';
export * from './crop_geometry.js';
export * from './rare_classes.js';
export * from './crop_dataset.js';
export * from './crop_viz.js';
export * from './image_grid.js';
