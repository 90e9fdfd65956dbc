/**
 * `detrlab <stage> [--flags]`. User errors print one clear line and exit 2; bugs print a stack and exit 1.
 */
import { parseFlags, formatHelp } from '../params/flags.js';
import { resolveParams } from '../params/schema.js';
import { fileSystemMessage, isUserError, UserError } from '../params/user_error.js';
import { StageCommand } from './command.js';
import { COMMANDS } from './registry.js';
import { didYouMean } from '../params/did_you_mean.js';

function findCommand(argv: string[]): { cmd: StageCommand; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const cmd = COMMANDS.find((c) => c.name === name);
    if (cmd) return { cmd, rest: argv.slice(words) };
  }
  return undefined;
}

export function usage(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return `usage: detrlab <command> [--flags]   (detrlab <command> --help for its flags)\n\ncommands:\n${COMMANDS.map((c) => `  ${c.name.padEnd(w)}${c.summary}`).join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(usage());
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    const hint = didYouMean(argv[0], [...new Set(COMMANDS.map((c) => c.name.split(' ')[0]))]);
    process.stderr.write(
      hint ? `detrlab: unknown command '${argv[0]}'; ${hint}\n` : `detrlab: unknown command '${argv[0]}'\n\n${usage()}`,
    );
    return 2;
  }
  const { cmd, rest } = found;
  try {
    const parsed = parseFlags(rest, cmd.schema);
    if (parsed.help) {
      process.stdout.write(
        formatHelp(`usage: detrlab ${cmd.name} [--flags]`, cmd.summary, cmd.schema) +
          (cmd.usage ? `\n${cmd.usage}\n` : ''),
      );
      return 0;
    }
    if (parsed.positionals.length && !cmd.positionals) {
      const words = parsed.positionals.map((w) => `'${w}'`).join(' ');
      throw new UserError(
        `unexpected argument ${words}: ${cmd.name} takes only --flags (is a flag name missing, or a value with spaces unquoted? see --help)`,
      );
    }
    const params = resolveParams(cmd.schema, parsed.params, 'flag');
    const code = await cmd.run(params, parsed.positionals);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`detrlab ${cmd.name}: error: ${e.message}\n`);
      return 2;
    }
    const fsMessage = fileSystemMessage(e);
    if (fsMessage) {
      process.stderr.write(`detrlab ${cmd.name}: error: ${fsMessage}\n`);
      return 2;
    }
    process.stderr.write(
      `detrlab ${cmd.name}: internal error (a bug; please report it):\n${(e as Error)?.stack ?? String(e)}\n`,
    );
    return 1;
  }
}

export { UserError };
