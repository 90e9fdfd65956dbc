/**
 * Reads TensorBoard event files back (tests, plots from logs, the report): every record's CRCs are
 * verified and each Event decoded with TensorBoard's field numbers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readRecords } from './record.js';
import { decodeEvent, DecodedEvent } from './protos.js';

export interface ScalarPoint {
  tag: string;
  step: number;
  value: number;
  wallTime: number;
}

export function readEventFile(file: string): { events: DecodedEvent[]; truncated: boolean } {
  const { records, truncated } = readRecords(fs.readFileSync(file));
  return { events: records.map(decodeEvent), truncated };
}

/** Event files in a log dir (TensorBoard's rule: the basename contains "tfevents"). */
export const eventFiles = (logdir: string): string[] =>
  fs.existsSync(logdir)
    ? fs
        .readdirSync(logdir)
        .filter((f) => f.includes('tfevents'))
        .sort()
        .map((f) => path.join(logdir, f))
    : [];

export function readScalars(logdir: string): ScalarPoint[] {
  const out: ScalarPoint[] = [];
  for (const f of eventFiles(logdir)) {
    for (const e of readEventFile(f).events) {
      for (const v of e.summary?.value ?? []) {
        if (typeof v.simple_value === 'number')
          out.push({ tag: v.tag, step: e.step ?? 0, value: v.simple_value, wallTime: e.wall_time });
      }
    }
  }
  return out;
}
