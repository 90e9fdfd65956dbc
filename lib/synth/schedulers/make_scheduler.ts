import { UserError } from '../../params/user_error.js';
import { DdimScheduler } from './ddim.js';
import { DpmSolverPP2MScheduler } from './dpm_solver.js';
import { EulerAncestralScheduler } from './euler_ancestral.js';
import { NoiseScheduleConfig, SD15_NOISE_SCHEDULE } from './noise_schedule.js';
import { Scheduler, SchedulerName, SCHEDULER_NAMES } from './scheduler.js';

/** A fresh scheduler for one image (DPM++ keeps history, so never share one between images). */
export function makeScheduler(
  name: SchedulerName,
  steps: number,
  cfg: NoiseScheduleConfig = SD15_NOISE_SCHEDULE,
): Scheduler {
  if (!Number.isInteger(steps) || steps < 1 || steps > cfg.numTrainTimesteps) {
    throw new UserError(`steps must be an integer in 1..${cfg.numTrainTimesteps}, got ${steps}`);
  }
  switch (name) {
    case 'ddim':
      return new DdimScheduler(cfg, steps);
    case 'euler-a':
      return new EulerAncestralScheduler(cfg, steps);
    case 'dpmpp-2m':
      return new DpmSolverPP2MScheduler(cfg, steps);
    default:
      throw new UserError(`unknown scheduler '${String(name)}'; choose one of ${SCHEDULER_NAMES.join(', ')}`);
  }
}
