export * from './user_error.js';
export * from './schema.js';
export * from './flags.js';
export * from './overrides.js';
