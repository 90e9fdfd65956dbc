/**
 * Data frames for notebooks (danfojs-node, loaded on first use — it pulls in @tensorflow/tfjs and takes
 * a few seconds, so nothing else in detrlab depends on it). `show()` renders a DataFrame as a table.
 *
 *   const df = await logFrame(readLog('runs/detr_demo/log.jsonl'), 'train');
 *   await show(df.groupby(['epoch']).agg({ loss_total: 'mean', loss_ce: 'mean' }));
 */
import { Row } from './table.js';

// danfojs' own typings are not part of the public surface (tslab type-checks notebooks with TS 5.0).
export interface DataFrameLike {
  columns: string[];
  values: unknown[][];
  shape: number[];
}

let danfo: Promise<Record<string, unknown>> | undefined;
export const loadDanfo = (): Promise<Record<string, unknown>> =>
  (danfo ??= import('danfojs-node') as unknown as Promise<Record<string, unknown>>);

export const isDataFrame = (x: unknown): x is DataFrameLike =>
  typeof x === 'object' &&
  x !== null &&
  Array.isArray((x as DataFrameLike).columns) &&
  Array.isArray((x as DataFrameLike).values) &&
  Array.isArray((x as DataFrameLike).shape);

/** A DataFrame's rows as plain records. */
export const frameRows = (df: DataFrameLike): Row[] =>
  df.values.map((v) => Object.fromEntries(df.columns.map((c, i) => [c, v[i]])));

/** Rows (e.g. a run's log.jsonl, optionally one split) as a danfo DataFrame. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a danfo DataFrame, untyped (danfojs-node ships no usable types)
export async function logFrame(rows: Array<Record<string, unknown>>, split?: string): Promise<any> {
  const dfd = (await loadDanfo()) as { DataFrame: new (rows: unknown[]) => unknown };
  const picked = split ? rows.filter((r) => r.split === split) : rows;
  const cols = [...new Set(picked.flatMap((r) => Object.keys(r)))];
  return new dfd.DataFrame(picked.map((r) => Object.fromEntries(cols.map((c) => [c, r[c] ?? null]))));
}
