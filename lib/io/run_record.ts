/**
 * What a training run hands to the stages after it (eval, visualize, error analysis), as one typed record:
 * `<run>/run_record.json`, written by `detrlab train` next to its config.json and read back here. Later stages
 * read these fields and nothing else of the run's config (which keeps every parameter for people to read).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AugmentConfig } from '../data/augment.js';
import { readJsonFile } from './json_file.js';
import { writeJsonAtomic } from './atomic.js';
import { UserError } from '../params/user_error.js';

export const RUN_RECORD_FILE = 'run_record.json';

export interface TrainRunRecord {
  version: 1;
  /** The data root the run trained and validated on. */
  dataRoot: string;
  /** The resolved augmentation; later stages predict with its validation resize (valSize, maxSize). */
  augment: AugmentConfig;
  /** Class names in head order. */
  classes: string[];
}

export function writeRunRecord(runDir: string, r: Omit<TrainRunRecord, 'version'>): void {
  writeJsonAtomic(path.join(runDir, RUN_RECORD_FILE), { version: 1, ...r } satisfies TrainRunRecord);
}

/** The run's record; undefined for a run written before records existed (callers fall back to its config.json). */
export function readRunRecord(runDir: string): TrainRunRecord | undefined {
  const file = path.join(runDir, RUN_RECORD_FILE);
  if (!fs.existsSync(file)) return undefined;
  const r = readJsonFile<Partial<TrainRunRecord>>(file, { what: 'training run record' });
  const ok =
    r.version === 1 &&
    typeof r.dataRoot === 'string' &&
    !!r.augment &&
    typeof r.augment.valSize === 'number' &&
    typeof r.augment.maxSize === 'number' &&
    Array.isArray(r.classes);
  if (!ok) throw new UserError(`${file}: not a version-1 training run record (dataRoot, augment, classes)`);
  return r as TrainRunRecord;
}
