/**
 * Every `detrlab` subcommand, in pipeline order. Add a command: write `commands/<name>.ts`
 * exporting a `defineCommand(...)`, then add it here.
 */
import { StageCommand } from './command.js';
import { environmentCommand } from './commands/environment.js';
import { cocoEvalCommand } from './commands/coco_eval.js';
import { notebooksRunCommand } from './commands/notebooks.js';
import { parityDetrCommand, parityAssignmentCommand } from './commands/parity.js';

export const COMMANDS: StageCommand[] = [
  environmentCommand,
  cocoEvalCommand,
  notebooksRunCommand,
  parityDetrCommand, parityAssignmentCommand,
];
