import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cocoEvalCommand } from '../../lib/cli/commands/coco_eval.js';
import { parseFlags } from '../../lib/params/flags.js';
import { resolveParams } from '../../lib/params/schema.js';
import { STAT_NAMES } from '../../lib/cocoeval/summarize.js';
import { edgeCase } from './fixtures.js';

/** Runs `detrlab coco-eval <argv>` in-process; returns what it printed. */
async function run(argv: string[]): Promise<string[]> {
  const printed: string[] = [];
  const log = console.log,
    write = process.stderr.write;
  console.log = (s: string) => {
    printed.push(s);
  };
  process.stderr.write = ((s: string) => {
    printed.push(s);
    return true;
  }) as typeof process.stderr.write;
  try {
    const params = resolveParams(cocoEvalCommand.schema, parseFlags(argv, cocoEvalCommand.schema).params, 'flag');
    await cocoEvalCommand.run(params, []);
  } finally {
    console.log = log;
    process.stderr.write = write;
  }
  return printed;
}

test('coco-eval writes the docs/contracts.md record and prints pycocotools lines', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-cocoeval-'));
  const { gt, dets } = edgeCase();
  fs.writeFileSync(path.join(dir, 'gt.json'), JSON.stringify(gt));
  fs.writeFileSync(path.join(dir, 'dt.json'), JSON.stringify(dets));
  const out = path.join(dir, 'out', 'metrics.json');
  const printed = await run(['--gt', path.join(dir, 'gt.json'), '--dt', path.join(dir, 'dt.json'), '--out', out]);
  const report = JSON.parse(fs.readFileSync(out, 'utf8'));
  // stats as pinned against pycocotools in coco_eval_reference.test.ts
  assert.equal(report.stats[0], 0.35546683700628123);
  assert.equal(report.stats.length, 12);
  assert.deepEqual(Object.keys(report.statsByName), [...STAT_NAMES]);
  assert.deepEqual(Object.keys(report.perCategory), ['1', '3', '5']);
  assert.equal(report.perCategoryByName.c3.categoryId, 3);
  assert.equal(report.perCategory['1'].ap, report.perCategoryByName.c1.ap);
  assert.deepEqual(report.params.maxDets, [1, 10, 100]);
  assert.equal(report.params.iouThrs[8], 0.8999999999999999);
  assert.ok(
    printed.some((l) => l.includes(' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.355')),
  );
  assert.ok(printed.some((l) => l.startsWith('warning: 1 GT annotation(s) have id 0')));
  const onlyCat1 = path.join(dir, 'cat1.json');
  await run([
    '--gt',
    path.join(dir, 'gt.json'),
    '--dt',
    path.join(dir, 'dt.json'),
    '--out',
    onlyCat1,
    '--cat-ids',
    '1',
  ]);
  assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(onlyCat1, 'utf8')).perCategory), ['1']);
  fs.rmSync(dir, { recursive: true });
});

test('coco-eval: missing flags and files are user errors', async () => {
  await assert.rejects(run(['--dt', 'x.json']), /--gt is required/);
  await assert.rejects(
    run(['--gt', '/nonexistent/gt.json', '--dt', 'x.json']),
    /ground-truth file not found: \/nonexistent\/gt\.json/,
  );
});

test('coco-eval: a bad --out and bad --max-dets are refused before any file is read', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-cocoeval-out-'));
  // gt/dt do not exist: an error about --out proves it was checked first
  const args = ['--gt', path.join(dir, 'no-gt.json'), '--dt', path.join(dir, 'no-dt.json')];
  await assert.rejects(run([...args, '--out', dir]), /--out .* is a folder; give a file path/);
  fs.writeFileSync(path.join(dir, 'file'), '');
  await assert.rejects(
    run([...args, '--out', path.join(dir, 'file', 'sub', 'm.json')]),
    /--out .*: .*file is a file, so nothing can be written under it/,
  );
  await assert.rejects(run([...args, '--max-dets', '1', '10']), /--max-dets needs 3 values .* got 1 10/);
  await assert.rejects(
    run([...args, '--max-dets', '1', '0', '100']),
    /--max-dets values must be positive integers, got 0/,
  );
  fs.rmSync(dir, { recursive: true });
});

test('coco-eval streams the results file: the same records as a whole-file read, across 4 MB chunk boundaries', async () => {
  const { streamCocoResults, readCocoResults } = await import('../../lib/cocoeval/results_io.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-cocoeval-stream-'));
  const file = path.join(dir, 'dets.json');
  const recs = Array.from({ length: 90_000 }, (_, i) => ({
    image_id: i % 997,
    category_id: 1 + (i % 7),
    bbox: [i % 13, 0.5, 2.25, 1e-3 * i],
    score: (i % 1000) / 1000,
    extra: 'x"]}',
  }));
  fs.writeFileSync(file, ' \n' + JSON.stringify(recs, null, 1));
  assert.ok(fs.statSync(file).size > 9 << 20, 'more than two read chunks');
  const streamed = await streamCocoResults(file);
  assert.deepEqual(
    streamed,
    readCocoResults(file).map(({ image_id, category_id, bbox, score }) => ({ image_id, category_id, bbox, score })),
  );
  fs.writeFileSync(
    file,
    '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},\n {"image_id": 2, "category_id": 1, "bbox": [1, 2, NaN, 4], "score": 0.5}]',
  );
  await assert.rejects(streamCocoResults(file), /dets\.json: results\[1\]\.bbox\[2\] is NaN/);
  fs.writeFileSync(file, '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},');
  await assert.rejects(streamCocoResults(file), /truncated/);
  fs.writeFileSync(file, '{"image_id": 1}');
  await assert.rejects(streamCocoResults(file), /must be a JSON list .* expected a JSON array at byte 0/);
  fs.rmSync(dir, { recursive: true });
});
