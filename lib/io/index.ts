export * from './atomic.js';
export * from './json_file.js';
export * from './download.js';
export * from './unzip.js';
export * from './paths.js';
export * from './run_record.js';
