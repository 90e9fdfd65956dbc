/**
 * A `detrlab` subcommand: a name (one or two words: `train`, `parity detr`), a parameter schema whose
 * keys become `--kebab-case` flags, and a `run` that calls the same lib functions the notebooks call.
 */
import { Schema } from '../params/schema.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the registry holds commands of every parameter type
export interface StageCommand<P = any> {
  /** `train`, `coco-eval`, `notebooks run`, `parity detr`. */
  name: string;
  summary: string;
  schema: Schema<P>;
  /** Extra usage text after the flags (positionals, examples). */
  usage?: string;
  /** Whether `run` takes positional arguments; without this, a stray word on the command line is refused. */
  positionals?: boolean;
  /** Returns the process exit code (default 0). */
  run(params: P, positionals: string[]): Promise<number | void>;
}

export const defineCommand = <P>(c: StageCommand<P>): StageCommand<P> => c;
