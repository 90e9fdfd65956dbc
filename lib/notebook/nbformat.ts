/**
 * nbformat 4 types and helpers (the subset detrlab reads and writes).
 */
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { UserError } from '../params/user_error.js';

export type MimeBundle = Record<string, string | string[] | unknown>;
export type Output =
  | { output_type: 'stream'; name: 'stdout' | 'stderr'; text: string | string[] }
  | {
      output_type: 'display_data';
      data: MimeBundle;
      metadata: Record<string, unknown>;
      transient?: { display_id?: string };
    }
  | {
      output_type: 'execute_result';
      data: MimeBundle;
      metadata: Record<string, unknown>;
      execution_count: number | null;
    }
  | { output_type: 'error'; ename: string; evalue: string; traceback: string[] };

export interface CellMetadata {
  tags?: string[];
  [k: string]: unknown;
}
export interface CodeCell {
  cell_type: 'code';
  id?: string;
  metadata: CellMetadata;
  source: string | string[];
  outputs: Output[];
  execution_count: number | null;
}
export interface MarkdownCell {
  cell_type: 'markdown' | 'raw';
  id?: string;
  metadata: CellMetadata;
  source: string | string[];
}
export type Cell = CodeCell | MarkdownCell;
export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Cell[];
}

export const sourceOf = (c: { source: string | string[] }): string =>
  Array.isArray(c.source) ? c.source.join('') : c.source;
export const textOf = (t: string | string[] | unknown): string => (Array.isArray(t) ? t.join('') : String(t ?? ''));

/** Splits text into nbformat's list-of-lines form (each line keeps its newline). */
export const toLines = (s: string): string[] => (s === '' ? [] : s.split(/(?<=\n)/));

export const newCellId = (): string => randomBytes(4).toString('hex');

export const TSLAB_KERNELSPEC = { name: 'tslab', display_name: 'TypeScript', language: 'typescript' };

export function readNotebook(file: string): Notebook {
  let nb: Notebook;
  try {
    nb = JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook;
  } catch (e) {
    throw new UserError(`cannot read notebook ${file}: ${(e as Error).message}`);
  }
  if (nb.nbformat !== 4 || !Array.isArray(nb.cells)) throw new UserError(`${file} is not an nbformat 4 notebook`);
  return nb;
}

/** Index of the first code cell tagged `parameters` (papermill convention), or -1. */
export const parametersCellIndex = (nb: Notebook): number =>
  nb.cells.findIndex((c) => c.cell_type === 'code' && (c.metadata.tags ?? []).includes('parameters'));

/** A copy with every output and execution count removed (what gets committed). */
export function stripOutputs(nb: Notebook): Notebook {
  return {
    ...nb,
    cells: nb.cells.map((c) => (c.cell_type === 'code' ? { ...c, outputs: [], execution_count: null } : c)),
  };
}
