/**
 * Reading evaluation inputs from files, with errors that say which file and what is wrong.
 * Python's `json.dump` writes NaN / Infinity as bare tokens, which JSON.parse rejects; such a file is
 * re-read with those tokens turned into strings so that validation can name the record holding them.
 */
import * as fs from 'node:fs';
import { CocoDataset, CocoResult, validateDataset, validateResult, validateResults } from '../coco/types.js';
import { UserError } from '../params/user_error.js';
import { ArraySplitter } from '../coco/json_scan.js';

/** Replaces bare NaN, Infinity, -Infinity tokens (outside strings) with the strings "NaN", "Infinity", "-Infinity". */
export function quoteNonFiniteTokens(text: string): string {
  let out = '',
    last = 0,
    inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      continue;
    }
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
      try {
        return JSON.parse(quoteNonFiniteTokens(text));
      } catch {
        /* report the original error */
      }
    }
    throw new UserError(`${where} is not valid JSON: ${(e as Error).message}`);
  }
}

function readText(file: string, what: string): string {
  readable(file, what);
  return fs.readFileSync(file, 'utf8');
}

/** A COCO detection dataset (instances_*.json), structure-checked. */
export const readCocoDataset = (file: string): CocoDataset =>
  validateDataset(parseJsonLenient(readText(file, 'ground-truth'), file), file);

/**
 * A COCO results file streamed item by item (lib/coco/json_scan.ts `ArraySplitter`), so a file larger than
 * V8's string limit (~512 MB) still reads; each record is checked and kept with only the four fields the
 * evaluation reads. Python's bare NaN/Infinity tokens are handled per item by `parseJsonLenient`.
 */
export async function streamCocoResults(file: string): Promise<CocoResult[]> {
  readable(file, 'detections');
  if (fs.statSync(file).size === 0) throw new UserError(`${file} is empty; expected a COCO results list`);
  const out: CocoResult[] = [];
  const splitter = new ArraySplitter((bytes, offset, index) => {
    const at = `${file}: results[${index}]`;
    const r = validateResult(parseJsonLenient(bytes.toString('utf8'), `${at} (byte ${offset})`), at);
    out.push({ image_id: r.image_id, category_id: r.category_id, bbox: r.bbox, score: r.score });
  }, `${file} (a COCO results file must be a JSON list of {image_id, category_id, bbox, score})`);
  let base = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20 })) {
    splitter.feed(chunk as Buffer, base);
    base += (chunk as Buffer).length;
  }
  splitter.finish();
  return out;
}

function readable(file: string, what: string): void {
  if (!fs.existsSync(file)) throw new UserError(`${what} file not found: ${file}`);
  if (fs.statSync(file).isDirectory()) throw new UserError(`${what} path is a folder, expected a JSON file: ${file}`);
}

/** A COCO results file (a list of {image_id, category_id, bbox, score}), record-checked. */
export const readCocoResults = (file: string): CocoResult[] =>
  validateResults(parseJsonLenient(readText(file, 'detections'), file), file);
