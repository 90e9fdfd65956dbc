/**
 * The one reader for the project's JSON inputs (user-supplied files and the files a run wrote): a missing
 * file, a folder, an unreadable file, a parse error or a value of the wrong shape becomes a UserError that
 * names the file and says what is wrong, never a SyntaxError stack trace.
 */
import * as fs from 'node:fs';
import { UserError } from '../params/user_error.js';

export interface ReadJsonOptions {
  /** What the file is, appended to errors: e.g. 'written by `detrlab subset`'. */
  what?: string;
  /** The top-level value must be a JSON object (default) or array; 'any' skips the check. */
  shape?: 'object' | 'array' | 'any';
}

const hint = (what?: string) => (what ? ` (${what})` : '');

function readText(file: string, what?: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new UserError(`${file} does not exist${hint(what)}`);
  }
  if (st.isDirectory()) throw new UserError(`${file} is a folder, expected a JSON file${hint(what)}`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Parses `text` (the content of `file`) with the error naming the file. */
export function parseJsonText<T = unknown>(text: string, file: string, o: ReadJsonOptions = {}): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const why = (e as Error).message.replace(/\s*\n\s*/g, ' '); // V8 quotes the text, newlines included
    const empty = text.trim() === '' ? 'is empty' : `is not valid JSON (${why})`;
    throw new UserError(`${file} ${empty}${hint(o.what)}; fix or delete it`);
  }
  const shape = o.shape ?? 'object';
  const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
  if (shape === 'object' && !isObject)
    throw new UserError(`${file} must hold a JSON object, found ${describe(value)}${hint(o.what)}`);
  if (shape === 'array' && !Array.isArray(value))
    throw new UserError(`${file} must hold a JSON array, found ${describe(value)}${hint(o.what)}`);
  return value as T;
}

/** Reads and parses one JSON file (an object unless `shape` says otherwise). */
export const readJsonFile = <T = Record<string, unknown>>(file: string, o: ReadJsonOptions = {}): T =>
  parseJsonText<T>(readText(file, o.what), file, o);

/**
 * Reads a JSON-lines file: one value per non-empty line, errors naming `file:line`. With `tornTail`, an
 * unparsable *last* line (a write cut by a kill) is dropped instead of refused.
 */
export function readJsonLines<T = Record<string, unknown>>(
  file: string,
  o: { what?: string; tornTail?: boolean } = {},
): T[] {
  const lines = readText(file, o.what).split('\n');
  const out: T[] = [];
  let last = lines.length - 1;
  while (last >= 0 && !lines[last].trim()) last--;
  for (let i = 0; i <= last; i++) {
    if (!lines[i].trim()) continue;
    try {
      out.push(JSON.parse(lines[i]) as T);
    } catch (e) {
      if (o.tornTail && i === last) break;
      throw new UserError(`${file}:${i + 1} is not valid JSON (${(e as Error).message})${hint(o.what)}`);
    }
  }
  return out;
}

/** A short description of a JSON value's type for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
