/**
 * Every `detrlab` subcommand, in pipeline order. Add a command: write `commands/<name>.ts`
 * exporting a `defineCommand(...)`, then add it here.
 */
import { StageCommand } from './command.js';
import { environmentCommand } from './commands/environment.js';
import { cocoEvalCommand } from './commands/coco_eval.js';
import { rareClassesCommand } from './commands/rare_classes.js';
import { cropsCommand } from './commands/crops.js';
import { synthCommand } from './commands/synth.js';
import { notebooksRunCommand } from './commands/notebooks.js';
import { parityDetrCommand, parityAssignmentCommand } from './commands/parity.js';

export const COMMANDS: StageCommand[] = [
  environmentCommand,
  cocoEvalCommand,
  rareClassesCommand, cropsCommand, synthCommand,
  notebooksRunCommand,
  parityDetrCommand, parityAssignmentCommand,
];
