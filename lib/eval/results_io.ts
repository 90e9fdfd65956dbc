/**
 * Reading evaluation inputs from files, with errors that say which file and what is wrong.
 * Python's `json.dump` writes NaN / Infinity as bare tokens, which JSON.parse rejects; such a file is
 * re-read with those tokens turned into strings so that validation can name the record holding them.
 */
import * as fs from 'node:fs';
import { CocoDataset, CocoResult, validateDataset, validateResults } from '../coco/types.js';
import { UserError } from '../params/user_error.js';

/** Replaces bare NaN, Infinity, -Infinity tokens (outside strings) with the strings "NaN", "Infinity", "-Infinity". */
export function quoteNonFiniteTokens(text: string): string {
  let out = '', last = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') { inString = true; continue; }
    for (const tok of ['-Infinity', 'Infinity', 'NaN']) {
      if (text.startsWith(tok, i)) {
        out += text.slice(last, i) + `"${tok}"`;
        i += tok.length - 1;
        last = i + 1;
        break;
      }
    }
  }
  return out + text.slice(last);
}

/** JSON.parse that tolerates Python's NaN/Infinity tokens (as strings) and names `where` in errors. */
export function parseJsonLenient(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (/NaN|Infinity/.test(text)) {
      try { return JSON.parse(quoteNonFiniteTokens(text)); } catch { /* report the original error */ }
    }
    throw new UserError(`${where} is not valid JSON: ${(e as Error).message}`);
  }
}

function readText(file: string, what: string): string {
  if (!fs.existsSync(file)) throw new UserError(`${what} file not found: ${file}`);
  if (fs.statSync(file).isDirectory()) throw new UserError(`${what} path is a folder, expected a JSON file: ${file}`);
  return fs.readFileSync(file, 'utf8');
}

/** A COCO detection dataset (instances_*.json), structure-checked. */
export const readCocoDataset = (file: string): CocoDataset =>
  validateDataset(parseJsonLenient(readText(file, 'ground-truth'), file), file);

/** A COCO results file (a list of {image_id, category_id, bbox, score}), record-checked. */
export const readCocoResults = (file: string): CocoResult[] =>
  validateResults(parseJsonLenient(readText(file, 'detections'), file), file);
