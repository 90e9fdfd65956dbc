/**
 * A run is a folder of plain files: `config.json` (every resolved parameter, backend, versions, seed),
 * `log.jsonl` (one JSON object per line, appended as training goes), and the artifacts listed in
 * docs/data_layout.md. Plots and reports read these files, never live objects.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { readJsonFile } from './json_file.js';

export interface LogRow {
  split: 'train' | 'val' | string;
  step: number;
  epoch: number;
  [k: string]: number | string | boolean | null;
}

export class RunDir {
  readonly logFile: string;

  constructor(readonly root: string) {
    fs.mkdirSync(root, { recursive: true });
    this.logFile = path.join(root, 'log.jsonl');
  }

  path(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }

  writeConfig(config: Record<string, unknown>): void {
    writeJsonAtomic(this.path('config.json'), config);
  }

  readConfig<T = Record<string, unknown>>(): T | undefined {
    const f = this.path('config.json');
    return fs.existsSync(f) ? readJsonFile<T>(f, { what: "the run's recorded settings" }) : undefined;
  }

  /** Appends one row (a single write call, so a crash can at worst tear the last line, which readLog skips). */
  log(row: LogRow): void {
    fs.appendFileSync(this.logFile, JSON.stringify(row) + '\n');
  }

  readLog(): LogRow[] {
    return readLog(this.logFile);
  }

  /** Drops log rows after `step` (a resumed run rewrites the steps it repeats). */
  truncateLog(step: number): void {
    const keep = this.readLog().filter((r) => r.step <= step);
    writeFileAtomic(this.logFile, keep.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}

export function readLog(file: string): LogRow[] {
  if (!fs.existsSync(file)) return [];
  const rows: LogRow[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      rows.push(JSON.parse(line) as LogRow);
    } catch {
      /* a torn last line from a killed run */
    }
  }
  return rows;
}
