/**
 * Every `detrlab` subcommand, in pipeline order. Add a command: write `commands/<name>.ts`
 * exporting a `defineCommand(...)`, then add it here.
 */
import { StageCommand } from './command.js';
import { environmentCommand } from './commands/environment.js';
import { cocoEvalCommand } from './commands/coco_eval.js';
import { prepareCocoCommand } from './commands/prepare_coco.js';
import { makeDemoCommand } from './commands/make_demo.js';
import { subsetCommand } from './commands/subset.js';
import { trainCommand } from './commands/train.js';
import { evalCommand } from './commands/eval.js';
import { visualizeCommand } from './commands/visualize.js';
import { errorAnalysisCommand } from './commands/error_analysis.js';
import { rareClassesCommand } from './commands/rare_classes.js';
import { cropsCommand } from './commands/crops.js';
import { synthCommand } from './commands/synth.js';
import { trainDiffusionCommand } from './commands/train_diffusion.js';
import { trainClassifierCommand } from './commands/train_classifier.js';
import { ablationCommand } from './commands/ablation.js';
import { notebooksRunCommand } from './commands/notebooks.js';
import { checkArtifactsCommand } from './commands/check_artifacts.js';
import { parityDetrCommand, parityAssignmentCommand } from './commands/parity.js';

export const COMMANDS: StageCommand[] = [
  environmentCommand,
  prepareCocoCommand,
  makeDemoCommand,
  subsetCommand,
  cocoEvalCommand,
  trainCommand,
  evalCommand,
  visualizeCommand,
  errorAnalysisCommand,
  rareClassesCommand,
  cropsCommand,
  trainDiffusionCommand,
  synthCommand,
  trainClassifierCommand,
  ablationCommand,
  notebooksRunCommand,
  checkArtifactsCommand,
  parityDetrCommand,
  parityAssignmentCommand,
];
