/**
 * Stage parameters: every stage has a flat, JSON-able parameter object described by a schema.
 * The schema gives each key its type, default and help text; `resolveParams` validates overrides
 * (from a notebook's parameters cell, `-p key=value`, or CLI flags) against it.
 */
import { UserError } from './user_error.js';
import { didYouMean } from './did_you_mean.js';

export type ParamType =
  | { kind: 'number'; min?: number; max?: number; integer?: boolean }
  | { kind: 'string' }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: readonly string[] }
  /** `split: false` keeps commas inside one value (`-p classes=a,b`). */
  | { kind: 'list'; of: 'string' | 'number'; split?: boolean };

export interface ParamSpec<T = unknown> {
  type: ParamType;
  default: T;
  help: string;
  /** Optional flag alias (without dashes), e.g. `p` for `-p`. */
  alias?: string;
}

export type Schema<P> = { [K in keyof P]: ParamSpec<P[K]> };

/** `num`, `int`, `str`, … build ParamSpecs tersely. */
export const num = (d: number, help: string, o: { min?: number; max?: number } = {}): ParamSpec<number> => ({
  type: { kind: 'number', ...o },
  default: d,
  help,
});
export const int = (d: number, help: string, o: { min?: number; max?: number } = {}): ParamSpec<number> => ({
  type: { kind: 'number', integer: true, ...o },
  default: d,
  help,
});
export const str = (d: string, help: string): ParamSpec<string> => ({ type: { kind: 'string' }, default: d, help });
export const bool = (d: boolean, help: string): ParamSpec<boolean> => ({ type: { kind: 'boolean' }, default: d, help });
export const oneOf = <T extends string>(values: readonly T[], d: T, help: string): ParamSpec<T> => ({
  type: { kind: 'enum', values },
  default: d,
  help,
});
export const strList = (d: string[], help: string): ParamSpec<string[]> => ({
  type: { kind: 'list', of: 'string' },
  default: d,
  help,
});
export const numList = (d: number[], help: string): ParamSpec<number[]> => ({
  type: { kind: 'list', of: 'number' },
  default: d,
  help,
});

export const defaultsOf = <P>(schema: Schema<P>): P => {
  const out: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(schema) as [string, ParamSpec][]) out[k] = structuredClone(spec.default);
  return out as P;
};

/** camelCase → kebab-case (`lrBackbone` → `lr-backbone`). */
export const toKebab = (s: string): string => s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
/** kebab-case → camelCase. */
export const toCamel = (s: string): string => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function describe(t: ParamType): string {
  switch (t.kind) {
    case 'number':
      return t.integer ? 'an integer' : 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${t.values.join(', ')}`;
    case 'list':
      return `a list of ${t.of}s`;
  }
}

/** Checks one value against its type; returns the (possibly coerced) value or throws UserError. */
export function checkValue(key: string, t: ParamType, v: unknown, name = `parameter '${key}'`): unknown {
  const bad = (why = `must be ${describe(t)}`) => new UserError(`${name} ${why}, got ${JSON.stringify(v)}`);
  switch (t.kind) {
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad();
      if (t.integer && !Number.isInteger(v)) throw bad();
      if (t.min !== undefined && v < t.min) throw bad(`must be ≥ ${t.min}`);
      if (t.max !== undefined && v > t.max) throw bad(`must be ≤ ${t.max}`);
      return v;
    }
    case 'string':
      if (typeof v !== 'string') throw bad();
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') throw bad();
      return v;
    case 'enum':
      if (typeof v !== 'string' || !t.values.includes(v)) throw bad();
      return v;
    case 'list': {
      if (!Array.isArray(v) || v.some((x) => typeof x !== t.of || (t.of === 'number' && !Number.isFinite(x))))
        throw bad();
      return [...v];
    }
  }
}

/**
 * Defaults ← overrides, validated. Unknown keys are an error that lists the valid ones.
 * `undefined` values in overrides are ignored (so `{...partial}` spreads are safe).
 */
export function resolveParams<P>(schema: Schema<P>, overrides: object = {}, where = 'parameters'): P {
  const out = defaultsOf(schema) as Record<string, unknown>;
  const specs = schema as Record<string, ParamSpec>;
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    const spec = specs[k];
    if (!spec) {
      const keys = Object.keys(specs),
        hint = didYouMean(k, keys);
      throw new UserError(`unknown ${where} key '${k}'; ${hint || `valid keys: ${keys.join(', ')}`}`);
    }
    out[k] = checkValue(k, spec.type, v, where === 'flag' ? `--${toKebab(k)}` : undefined);
  }
  return out as P;
}

/** Parses a string (from the command line or `-p key=value`) into the value type the spec wants. */
export function parseValue(key: string, t: ParamType, raw: string): unknown {
  switch (t.kind) {
    case 'number': {
      const v = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(v)) throw new UserError(`--${toKebab(key)} must be ${describe(t)}, got '${raw}'`);
      return v;
    }
    case 'boolean': {
      if (/^(true|1|yes)$/i.test(raw)) return true;
      if (/^(false|0|no)$/i.test(raw)) return false;
      throw new UserError(`--${toKebab(key)} must be true or false, got '${raw}'`);
    }
    case 'list':
      if (t.split === false) return [raw];
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
        .map((s) => (t.of === 'number' ? parseValue(key, { kind: 'number' }, s) : s));
    default:
      return raw;
  }
}
