import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { evaluateCoco } from '../../lib/cocoeval/coco_eval.js';
import { parseJsonLenient, quoteNonFiniteTokens, readCocoResults } from '../../lib/cocoeval/results_io.js';
import { dataset, det, evaluate, big } from './fixtures.js';

const gt = dataset([1, 2], [{ image: 1, cat: 1, box: big(0) }], [1, 3]);
const rejects = (dets: unknown, pattern: RegExp) =>
  assert.throws(
    () => evaluateCoco(gt, dets as never, { quiet: true, dtSource: 'dets.json' }),
    (e: Error) => e.name === 'UserError' && pattern.test(e.message),
  );

test('results naming an image absent from the GT are refused, naming the first record', () => {
  rejects(
    [det(1, 1, big(0), 0.9), det(7, 1, big(0), 0.9), det(8, 1, big(0), 0.9)],
    /dets\.json: results\[1\]\.image_id 7 is not an image of the ground truth \(2 record/,
  );
});

test('missing or mistyped fields, NaN / Infinity and bad boxes name the record and field', () => {
  rejects(
    [det(1, 1, big(0), 0.9), { image_id: 1, category_id: 1, bbox: [0, 0, 1, 1] }],
    /results\[1\]\.score must be a number, got missing/,
  );
  rejects(
    [{ image_id: '1', category_id: 1, bbox: [0, 0, 1, 1], score: 1 }],
    /results\[0\]\.image_id must be a number, got the string "1"/,
  );
  rejects([det(1, 1, [0, 0, NaN, 1], 0.5)], /results\[0\]\.bbox\[2\] is NaN/);
  rejects([det(1, 1, [0, 0, 1, 1], Infinity)], /results\[0\]\.score is Infinity/);
  rejects(
    [{ image_id: 1, category_id: 1, bbox: [0, 0, 1], score: 1 }],
    /results\[0\]\.bbox must be \[x, y, w, h\] \(4 numbers\), got an array of length 3/,
  );
  rejects(
    [{ image_id: 1, category_id: null, bbox: [0, 0, 1, 1], score: 1 }],
    /results\[0\]\.category_id must be a number, got null/,
  );
  rejects([[1, 1, 0, 0, 1, 1, 0.5]], /results\[0\] must be an object, got an array/);
  rejects({ annotations: [] }, /must be a JSON list/);
});

test('detections of a category absent from the GT are dropped without changing the figures', () => {
  const base = evaluate(gt, [det(1, 1, big(0), 0.9)]);
  const r = evaluate(gt, [det(1, 1, big(0), 0.9), det(1, 2, big(0), 0.95), det(2, 99, big(0), 0.95)]);
  assert.deepEqual(r.stats, base.stats);
  assert.equal(r.counts.detsUnknownCategory, 2);
  assert.ok(r.warnings.some((w) => /2 detection\(s\) have a category_id absent/.test(w)));
});

test('an empty results list evaluates (pycocotools raises): 0 where GT exists, −1 elsewhere, with a warning', () => {
  const r = evaluate(gt, []);
  assert.equal(r.statsByName.map, 0); // class 1 has GT: AP 0
  assert.equal(r.statsByName.mar_100, 0);
  assert.equal(r.statsByName.map_small, -1); // no small GT anywhere
  assert.equal(r.perCategory[1].stats.map, -1); // class 3 has no GT
  assert.ok(r.warnings.some((w) => w.includes('empty')));
});

test('malformed ground truth is refused with the annotation named', () => {
  const bad = dataset([1], [{ image: 1, cat: 1, box: big(0) }]);
  (bad.annotations[0] as unknown as Record<string, unknown>).bbox = [0, 0, 'x', 1];
  assert.throws(
    () => evaluateCoco(bad, [], { quiet: true, gtSource: 'gt.json' }),
    /gt\.json: annotations\[0\]\.bbox\[2\] must be a number/,
  );
});

test("Python's NaN / Infinity tokens are read as strings, so the record is named", () => {
  assert.equal(
    quoteNonFiniteTokens('[{"a": NaN, "b": "NaN x", "c": -Infinity, "d": "\\"NaN"}]'),
    '[{"a": "NaN", "b": "NaN x", "c": "-Infinity", "d": "\\"NaN"}]',
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-eval-'));
  const file = path.join(dir, 'dets.json');
  fs.writeFileSync(
    file,
    '[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5},\n {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": NaN}]',
  );
  assert.throws(() => readCocoResults(file), /dets\.json: results\[1\]\.score is NaN/);
  assert.throws(() => parseJsonLenient('[1, 2', 'x.json'), /x\.json is not valid JSON/);
  assert.throws(() => readCocoResults(path.join(dir, 'nope.json')), /detections file not found/);
  fs.rmSync(dir, { recursive: true });
});
