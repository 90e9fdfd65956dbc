import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { RunLock, LOCK_FILE } from '../../lib/io/run_lock.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-lock-'));

test('the lock is exclusive while held, names its owner, and is released', () => {
  const dir = path.join(tmp, 'a', 'run');
  const lock = RunLock.acquire(dir, '--output-dir');
  const rec = JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'));
  assert.equal(rec.pid, process.pid);
  assert.throws(
    () => RunLock.acquire(dir, '--output-dir'),
    (e: Error) => e.name === 'UserError' && /--output-dir .*run is in use by a live run \(this process/.test(e.message),
  );
  lock.release();
  lock.release(); // idempotent
  assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false);
  RunLock.acquire(dir).release();
});

test('a lock held by a live process is refused; once that process is gone the lock is stale and taken over', async () => {
  const dir = path.join(tmp, 'b');
  const child = spawn(
    process.execPath,
    [
      '-e',
      `
    const { RunLock } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'lib', 'io', 'run_lock.js'))});
    RunLock.acquire(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((r) => child.stdout.once('data', () => r()));
  assert.throws(() => RunLock.acquire(dir), new RegExp(`in use by a live run \\(pid ${child.pid} on `));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const warn = console.warn;
  const warned: string[] = [];
  console.warn = (s: string) => {
    warned.push(s);
  };
  try {
    RunLock.acquire(dir).release();
  } finally {
    console.warn = warn;
  }
  assert.match(warned.join('\n'), new RegExp(`left by a run that is gone \\(pid ${child.pid}`));
});

test('a reused pid (same pid, another process start time) and an unreadable lock file are stale', () => {
  const dir = path.join(tmp, 'c');
  fs.mkdirSync(dir);
  const warn = console.warn;
  console.warn = () => {};
  try {
    // our own pid, but recorded with a start time that is not ours: the recorded process is gone
    fs.writeFileSync(
      path.join(dir, LOCK_FILE),
      JSON.stringify({ pid: process.pid, host: os.hostname(), procStart: '1', command: 'x', since: 'then' }),
    );
    if (fs.existsSync('/proc/self/stat')) RunLock.acquire(dir).release();
    fs.writeFileSync(path.join(dir, LOCK_FILE), '{"pid": 12');
    RunLock.acquire(dir).release();
  } finally {
    console.warn = warn;
  }
  assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false);
});

test('the lock file goes away when the process exits normally without release', () => {
  const dir = path.join(tmp, 'd');
  const r = spawnSync(process.execPath, [
    '-e',
    `require(${JSON.stringify(path.join(__dirname, '..', '..', 'lib', 'io', 'run_lock.js'))}).RunLock.acquire(${JSON.stringify(dir)})`,
  ]);
  assert.equal(r.status, 0);
  assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false);
});
