import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic, readJson, replaceDirAtomic, recoverDir } from '../../lib/io/atomic.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-atomic-'));

test('writes land whole and leave no temp files', () => {
  const d = tmp();
  const f = path.join(d, 'sub', 'x.json');
  writeJsonAtomic(f, { a: 1 });
  writeFileAtomic(f, JSON.stringify({ a: 2 }));
  assert.deepEqual(readJson(f), { a: 2 });
  assert.deepEqual(fs.readdirSync(path.dirname(f)), ['x.json']);
});

test('replaceDirAtomic swaps a folder; recoverDir restores after a crash between renames', () => {
  const d = tmp();
  const target = path.join(d, 'ckpt');
  replaceDirAtomic(target, (t) => fs.writeFileSync(path.join(t, 'v'), '1'));
  replaceDirAtomic(target, (t) => fs.writeFileSync(path.join(t, 'v'), '2'));
  assert.equal(fs.readFileSync(path.join(target, 'v'), 'utf8'), '2');
  assert.deepEqual(fs.readdirSync(d), ['ckpt']);
  // Simulate a crash after the old folder was moved aside but before the new one was renamed in.
  fs.renameSync(target, path.join(d, '.ckpt.old'));
  recoverDir(target);
  assert.equal(fs.readFileSync(path.join(target, 'v'), 'utf8'), '2');
});

test('a fill that throws leaves the old folder intact', () => {
  const d = tmp();
  const target = path.join(d, 'ckpt');
  replaceDirAtomic(target, (t) => fs.writeFileSync(path.join(t, 'v'), 'good'));
  assert.throws(() =>
    replaceDirAtomic(target, () => {
      throw new Error('boom');
    }),
  );
  assert.equal(fs.readFileSync(path.join(target, 'v'), 'utf8'), 'good');
});
