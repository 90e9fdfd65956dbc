// Bad inputs found by an audit: each must end with exit 2 and one line, no stack trace, nothing lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const bin = path.resolve(__dirname, '..', '..', '..', 'bin', 'detrlab.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, DETRLAB_QUIET: '1' },
  });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-bad-'));

function userError(args: string[], re: RegExp): void {
  const r = run(...args);
  assert.equal(r.status, 2, `${args.join(' ')}\n${r.stderr}`);
  assert.match(r.stderr, re);
  assert.doesNotMatch(r.stderr, /internal error|^\s+at /m, 'no stack trace');
}

test('stray positional arguments are refused', () => {
  userError(['train', 'data/demo_subset'], /unexpected argument 'data\/demo_subset': train takes only --flags/);
  userError(['coco-eval', '--gt', 'a.json', 'b.json', '--dt', 'c.json'], /unexpected argument 'b\.json'/);
});

test('output paths that are files, under files or empty are refused; make-demo never replaces what it did not make', () => {
  const file = path.join(tmp, 'file');
  fs.writeFileSync(file, 'keep me');
  userError(['train', '--output-dir', file], /--output-dir .*file is a file, not a folder/);
  userError(['train', '--output-dir', path.join(file, 'run')], /is a file, so no folder can be made under it/);
  userError(['train', '--output-dir', ''], /--output-dir is empty/);
  userError(['subset', '--out-root', file], /--out-root .* is a file, not a folder/);
  userError(['make-demo', '--out', file], /--out .* is a file, not a folder/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
  const mine = path.join(tmp, 'mine');
  fs.mkdirSync(mine);
  fs.writeFileSync(path.join(mine, 'notes.txt'), 'precious');
  userError(['make-demo', '--out', mine], /holds files that make-demo did not write/);
  assert.equal(fs.readFileSync(path.join(mine, 'notes.txt'), 'utf8'), 'precious');
});

test('coco-eval: malformed ground truth and detections are one line each', () => {
  const gt = path.join(tmp, 'gt.json'),
    dt = path.join(tmp, 'dt.json');
  fs.writeFileSync(
    gt,
    JSON.stringify({
      images: [{ id: 1 }],
      annotations: [{ id: 1, image_id: 1, category_id: 1 }],
      categories: [{ id: 1 }],
    }),
  );
  fs.writeFileSync(dt, '[]');
  userError(
    ['coco-eval', '--gt', gt, '--dt', dt],
    /gt\.json: annotations\[0\]\.bbox must be \[x, y, w, h\] \(4 numbers\), got missing/,
  );
  fs.writeFileSync(
    gt,
    JSON.stringify({
      images: [{ id: 1 }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2] }],
      categories: [{ id: 1 }],
    }),
  );
  fs.writeFileSync(dt, '[{"image_id": 1,');
  userError(['coco-eval', '--gt', gt, '--dt', dt], /dt\.json.*truncated/);
  userError(['coco-eval', '--gt', gt, '--dt', tmp], /is a folder/);
});
