// The barrel has no side effect on import; a notebook moves to the project root by calling enterProjectRoot().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..');
const inNotebooks = (code: string): string =>
  spawnSync(process.execPath, ['-e', code], {
    cwd: path.join(root, 'notebooks'),
    encoding: 'utf8',
    timeout: 60_000,
  }).stdout.trim();

test('importing the library leaves the working directory alone; enterProjectRoot() moves from notebooks/ to the root', () => {
  assert.equal(inNotebooks("require('../dist/lib'); console.log(process.cwd())"), path.join(root, 'notebooks'));
  assert.equal(inNotebooks("const l = require('../dist/lib'); l.enterProjectRoot(); console.log(process.cwd())"), root);
});
