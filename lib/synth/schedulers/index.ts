export * from './noise_schedule.js';
export * from './scheduler.js';
export * from './ddim.js';
export * from './euler_ancestral.js';
export * from './dpm_solver.js';
export * from './make_scheduler.js';
