import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readJsonFile, readJsonLines } from '../../lib/io/json_file.js';
import { readJson } from '../../lib/io/atomic.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-json-'));
const put = (name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
const userError = (re: RegExp) => (e: Error) => e.name === 'UserError' && re.test(e.message);

test('every way a JSON file can be wrong is a UserError naming the file', () => {
  const missing = path.join(dir, 'nope.json');
  assert.throws(
    () => readJsonFile(missing, { what: 'written by `detrlab subset`' }),
    userError(/nope\.json does not exist \(written by `detrlab subset`\)$/),
  );
  assert.throws(() => readJsonFile(dir), userError(/is a folder, expected a JSON file/));
  assert.throws(() => readJsonFile(put('empty.json', ' \n')), userError(/empty\.json is empty; fix or delete it/));
  assert.throws(
    () => readJsonFile(put('torn.json', '{"classes": ["a"')),
    userError(/torn\.json is not valid JSON \(.+\); fix or delete it/),
  );
  assert.throws(
    () => readJsonFile(put('list.json', '[1, 2]')),
    userError(/list\.json must hold a JSON object, found an array/),
  );
  assert.throws(
    () => readJsonFile(put('num.json', '3'), { shape: 'array' }),
    userError(/num\.json must hold a JSON array, found a number/),
  );
  assert.deepEqual(readJsonFile(put('ok.json', '{"a": [1]}')), { a: [1] });
  assert.deepEqual(readJsonFile(put('any.json', '"s"'), { shape: 'any' }), 's');
  // the old entry point of lib/io/atomic.ts is the same reader
  assert.throws(() => readJson(path.join(dir, 'torn.json')), userError(/torn\.json is not valid JSON/));
});

test('JSON lines: the bad line is named; a torn last line is dropped only when asked', () => {
  const f = put('log.jsonl', '{"a":1}\n\n{"a":2}\n{"a":');
  assert.throws(() => readJsonLines(f), userError(/log\.jsonl:4 is not valid JSON/));
  assert.deepEqual(readJsonLines(f, { tornTail: true }), [{ a: 1 }, { a: 2 }]);
  const mid = put('mid.jsonl', '{"a":1}\nxx\n{"a":2}\n');
  assert.throws(() => readJsonLines(mid, { tornTail: true }), userError(/mid\.jsonl:2 is not valid JSON/));
});
