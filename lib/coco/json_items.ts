/**
 * Reading big COCO JSON files piecewise: find the top-level keys, read small values whole, and visit the
 * items of the big arrays (`images`, `annotations`) one at a time. The file is never held as one string
 * (instances_train2017.json is 469,785,474 bytes; V8's string limit is 536,870,888 chars; nodejs/node#35973).
 *
 * Two engines visit array items, with identical results (tests/coco/json_items.test.ts):
 * - `split` (default): json_scan.ts finds each item's bytes, JSON.parse parses it. ~10× faster.
 * - `stream-json`: uhop/stream-json's Parser + StreamArray (a full streaming tokenizer). Measured here
 *   at ~7 MB/s on COCO-shaped data, i.e. over a minute for the train file — kept as the reference.
 */
import * as fs from 'node:fs';
import { pipeline } from 'node:stream';
import { parser } from 'stream-json';
import { streamArray } from 'stream-json/streamers/StreamArray';
import { UserError } from '../params/user_error.js';
import { ArraySplitter, ByteRange, TopLevelScanner } from './json_scan.js';

export type JsonEngine = 'split' | 'stream-json';
export const JSON_ENGINES: readonly JsonEngine[] = ['split', 'stream-json'];

export interface ItemOptions {
  engine?: JsonEngine;
  /** Called with the number of bytes consumed (for a progress bar). */
  onBytes?: (n: number) => void;
}

const CHUNK = 4 << 20;

function openRange(file: string, r?: ByteRange): fs.ReadStream {
  return fs.createReadStream(file, { highWaterMark: CHUNK, ...(r ? { start: r.start, end: r.end - 1 } : {}) });
}

/** Byte ranges of the values of every top-level key (`images`, `annotations`, …), in any key order. */
export async function locateTopLevel(file: string, onBytes?: (n: number) => void): Promise<Map<string, ByteRange>> {
  if (!fs.existsSync(file)) throw new UserError(`annotation file not found: ${file}`);
  const scanner = new TopLevelScanner(file);
  let base = 0;
  for await (const chunk of openRange(file)) {
    scanner.feed(chunk as Buffer, base);
    base += (chunk as Buffer).length;
    onBytes?.((chunk as Buffer).length);
  }
  return scanner.finish();
}

/** JSON.parse of one small value (categories, info); refuses values over `maxBytes`. */
export async function readRangeJson<T>(file: string, r: ByteRange, what: string, maxBytes = 64 << 20): Promise<T> {
  if (r.end - r.start > maxBytes)
    throw new UserError(`${file}: '${what}' is ${r.end - r.start} bytes, more than the ${maxBytes} expected`);
  const buf = Buffer.alloc(r.end - r.start);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, buf, 0, buf.length, r.start);
  } finally {
    fs.closeSync(fd);
  }
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch (e) {
    throw new UserError(`${file}: '${what}' is not valid JSON (${(e as Error).message})`);
  }
}

async function splitItems(
  file: string,
  r: ByteRange,
  where: string,
  onItem: (item: unknown, i: number) => void,
  o: ItemOptions,
): Promise<number> {
  const splitter = new ArraySplitter((bytes, offset, index) => {
    let item: unknown;
    try {
      item = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      throw new UserError(`${where}: item ${index} at byte ${offset} is not valid JSON (${(e as Error).message})`);
    }
    onItem(item, index);
  }, where);
  let base = r.start;
  for await (const chunk of openRange(file, r)) {
    splitter.feed(chunk as Buffer, base);
    base += (chunk as Buffer).length;
    o.onBytes?.((chunk as Buffer).length);
  }
  return splitter.finish();
}

async function streamJsonItems(
  file: string,
  r: ByteRange,
  where: string,
  onItem: (item: unknown, i: number) => void,
  o: ItemOptions,
): Promise<number> {
  const rs = openRange(file, r);
  if (o.onBytes) rs.on('data', (c) => o.onBytes!((c as Buffer).length));
  const items = pipeline(rs, parser({ packValues: true, streamValues: false }), streamArray(), () => undefined);
  let n = 0;
  try {
    for await (const { key, value } of items as AsyncIterable<{ key: number; value: unknown }>) {
      onItem(value, key);
      n++;
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${where}: not valid JSON (${(e as Error).message})`);
  }
  return n;
}

/**
 * Visits each item of the array at `r` in order; returns the item count. `where` names the array in
 * error messages (e.g. `data/coco/annotations/instances_val2017.json: annotations`).
 */
export function forEachItem(
  file: string,
  r: ByteRange,
  where: string,
  onItem: (item: unknown, index: number) => void,
  o: ItemOptions = {},
): Promise<number> {
  return (o.engine ?? 'split') === 'split'
    ? splitItems(file, r, where, onItem, o)
    : streamJsonItems(file, r, where, onItem, o);
}

/** Keys a COCO detection file must have. */
export const COCO_ARRAYS = ['images', 'annotations', 'categories'] as const;

/** Locates a COCO file's top-level keys and checks the three lists are there. */
export async function locateCoco(file: string, onBytes?: (n: number) => void): Promise<Map<string, ByteRange>> {
  const ranges = await locateTopLevel(file, onBytes);
  const missing = COCO_ARRAYS.filter((k) => !ranges.has(k));
  if (missing.length)
    throw new UserError(`${file}: not a COCO detection file (missing ${missing.map((k) => `'${k}'`).join(', ')})`);
  return ranges;
}
