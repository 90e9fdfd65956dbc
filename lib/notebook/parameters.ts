/**
 * Papermill-style parameters for TypeScript notebooks. The `parameters` cell declares
 * `const params = { key: value, … }`; the runner inserts, right after it, a cell tagged
 * `injected-parameters` that assigns the overrides: `Object.assign(params, { … });`.
 */
import { Notebook, CodeCell, newCellId, parametersCellIndex, sourceOf, toLines } from './nbformat.js';
import { UserError } from '../params/user_error.js';

/** Top-level keys of the object literal assigned to `params` in the parameters cell. */
export function declaredParameterKeys(source: string): string[] {
  const start = source.search(/\bparams\s*(?::[^=]+)?=\s*\{/);
  if (start < 0) return [];
  let i = source.indexOf('{', start) + 1;
  let depth = 1;
  let token = '';
  const keys: string[] = [];
  let quote: string | null = null;
  for (; i < source.length && depth > 0; i++) {
    const ch = source[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '/' && source[i + 1] === '/') {
      i = source.indexOf('\n', i);
      if (i < 0) break;
      continue;
    }
    if (ch === '/' && source[i + 1] === '*') {
      i = source.indexOf('*/', i) + 1;
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '`') {
      quote = ch;
      continue;
    }
    if ('{[('.includes(ch)) {
      depth++;
      token = '';
      continue;
    }
    if ('}])'.includes(ch)) {
      depth--;
      token = '';
      continue;
    }
    if (depth === 1 && ch === ':' && /^\s*[A-Za-z_$][\w$]*\s*$/.test(token)) keys.push(token.trim());
    if (depth === 1 && ch === ',') {
      token = '';
      continue;
    }
    if (depth === 1) token += ch;
  }
  return keys;
}

/** Parses `key=value` (value as JSON when it parses, else a string). */
export function parseParamAssignment(s: string): [string, unknown] {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new UserError(`-p expects key=value, got '${s}'`);
  const key = s.slice(0, eq).trim();
  const raw = s.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    /* a plain string */
  }
  return [key, value];
}

/**
 * Returns a copy of `nb` with an `injected-parameters` cell after the `parameters` cell (replacing an
 * earlier injected cell). Only keys the notebook declares are injected; the rest are returned.
 */
export function injectParameters(
  nb: Notebook,
  values: Record<string, unknown>,
): { nb: Notebook; injected: string[]; unused: string[] } {
  const idx = parametersCellIndex(nb);
  const keys = Object.keys(values);
  if (idx < 0) return { nb, injected: [], unused: keys };
  const declared = new Set(declaredParameterKeys(sourceOf(nb.cells[idx])));
  const injected = keys.filter((k) => declared.has(k));
  const cells = nb.cells.filter((c) => !(c.metadata.tags ?? []).includes('injected-parameters'));
  if (injected.length > 0) {
    const obj = Object.fromEntries(injected.map((k) => [k, values[k]]));
    const cell: CodeCell = {
      cell_type: 'code',
      id: newCellId(),
      metadata: { tags: ['injected-parameters'] },
      execution_count: null,
      outputs: [],
      source: toLines(
        `// Parameters injected by the runner\nvoid Object.assign(params, ${JSON.stringify(obj, null, 2)});\n`,
      ),
    };
    cells.splice(cells.indexOf(nb.cells[idx]) + 1, 0, cell);
  }
  return {
    nb: {
      ...nb,
      cells,
      metadata: { ...nb.metadata, detrlab: { parameters: Object.fromEntries(injected.map((k) => [k, values[k]])) } },
    },
    injected,
    unused: keys.filter((k) => !declared.has(k)),
  };
}
