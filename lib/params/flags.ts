/**
 * Command-line flags → a stage's parameter object. `--lr-backbone 1e-5` sets `lrBackbone`;
 * booleans take `--amp` / `--no-amp` / `--amp=false`; lists take several values
 * (`--classes person car`) or a comma list. Unknown flags are a UserError.
 */
import { ParamSpec, Schema, parseValue, toCamel, toKebab, checkValue } from './schema.js';
import { UserError } from './user_error.js';
import { didYouMean } from './did_you_mean.js';

export interface ParsedArgs<P> {
  params: Partial<P>;
  positionals: string[];
  help: boolean;
}

export function parseFlags<P>(argv: readonly string[], schema: Schema<P>): ParsedArgs<P> {
  const specs = schema as Record<string, ParamSpec>;
  const aliases = new Map(
    Object.entries(specs)
      .filter(([, s]) => s.alias)
      .map(([k, s]) => [s.alias!, k]),
  );
  const params: Record<string, unknown> = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = (eq >= 0 ? arg.slice(0, eq) : arg).replace(/^--?/, '');
    let inline: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let key = aliases.get(name) ?? toCamel(name);
    let negated = false;
    if (!specs[key] && name.startsWith('no-') && specs[toCamel(name.slice(3))]?.type.kind === 'boolean') {
      key = toCamel(name.slice(3));
      negated = true;
    }
    const spec = specs[key];
    if (!spec) {
      const flags = Object.keys(specs).map((k) => '--' + toKebab(k));
      const hint = didYouMean('--' + name, flags);
      throw new UserError(
        `unknown flag '${arg}'${hint ? `; ${hint}` : `. Valid flags: ${flags.join(' ')}`} (--help lists every flag)`,
      );
    }
    const t = spec.type;
    if (t.kind === 'boolean') {
      if (inline === undefined && /^(true|false)$/i.test(argv[i + 1] ?? '')) inline = argv[++i];
      const v = inline === undefined ? true : parseValue(key, t, inline);
      params[key] = negated ? !v : v;
      continue;
    }
    const values: string[] = [];
    if (inline !== undefined) values.push(inline);
    else {
      while (i + 1 < argv.length && (!argv[i + 1].startsWith('-') || /^-\d/.test(argv[i + 1]))) {
        values.push(argv[++i]);
        if (t.kind !== 'list') break;
      }
    }
    if (values.length === 0) throw new UserError(`flag --${toKebab(key)} needs a value`);
    const v =
      t.kind === 'list' ? values.flatMap((s) => parseValue(key, t, s) as unknown[]) : parseValue(key, t, values[0]);
    // A repeated list flag accumulates (`-p a=1 -p b=2`); a repeated scalar flag: the last one wins.
    const prev = t.kind === 'list' && Array.isArray(params[key]) ? (params[key] as unknown[]) : [];
    params[key] = checkValue(key, t, t.kind === 'list' ? [...prev, ...(v as unknown[])] : v, `--${toKebab(key)}`);
  }
  return { params: params as Partial<P>, positionals, help };
}

/** `--help` text for a stage: one line per flag with its type and default. */
export function formatHelp<P>(usage: string, summary: string, schema: Schema<P>): string {
  const rows = Object.entries(schema as Record<string, ParamSpec>).map(([k, s]) => {
    const t = s.type;
    const meta =
      t.kind === 'boolean'
        ? ''
        : t.kind === 'enum'
          ? ` <${t.values.join('|')}>`
          : t.kind === 'list'
            ? ` <${t.of}…>`
            : ` <${t.kind}>`;
    return [`  --${toKebab(k)}${meta}`, `${s.help} (default: ${JSON.stringify(s.default)})`];
  });
  const w = Math.min(40, Math.max(0, ...rows.map((r) => r[0].length)) + 2);
  return `${usage}\n\n${summary}\n\nOptions:\n${rows.map(([a, b]) => (a.length + 2 > w ? `${a}\n${' '.repeat(w)}` : a.padEnd(w)) + b).join('\n')}\n  --help${' '.repeat(Math.max(1, w - 8))}show this help\n`;
}
