/** One synthetic image's record (a line of metadata.jsonl, docs/data_layout.md "Synthetic images"), and its reader. */
import * as path from 'node:path';
import { readJsonLines } from '../io/json_file.js';

export interface SynthRecord {
  file: string;
  class: string;
  index: number;
  prompt: string;
  negativePrompt: string;
  seed: number;
  baseSeed: number;
  steps: number;
  guidance: number;
  scheduler: string;
  conditioningScale: number;
  size: number;
  sourceCrop: string;
  controlImage: string;
  models: string;
  provider: string;
}

export const readSynthMetadata = (out: string): SynthRecord[] =>
  readJsonLines<SynthRecord>(path.join(out, 'metadata.jsonl'), { what: 'written by `detrlab synth`' });
