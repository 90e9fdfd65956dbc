import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const bin = path.resolve(__dirname, '..', '..', '..', 'bin', 'detrlab.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, DETRLAB_QUIET: '1' } });

test('user errors exit 2 with one clear line and no stack trace', () => {
  for (const args of [
    ['no-such-stage'],
    ['environment', '--bogus'],
    ['environment', '--steps', 'x'],
    ['notebooks', 'run', '--only', '99'],
  ]) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  }
  assert.match(
    run('environment', '--steps', 'x').stderr,
    /detrlab environment: error: --steps must be an integer, got 'x'/,
  );
});

test('--help lists commands and flags', () => {
  const r = run('--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /notebooks run/);
  const h = run('notebooks', 'run', '--help');
  assert.equal(h.status, 0);
  assert.match(h.stdout, /--profile <demo\|coco>/);
});

test('environment runs a tiny training job on the cpu backend', () => {
  const r = run('environment', '--backend', 'cpu', '--steps', '3');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /tiny training run on cpu: loss .* 0 tensors leaked/);
});
