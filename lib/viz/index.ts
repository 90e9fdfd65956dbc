export * from './vega_render.js';
export * from './table.js';
export * from './show.js';
export * from './charts.js';
export * from './progress.js';
export * from './notebook_context.js';
export * from './overlay.js';
export * from './contact_sheet.js';
