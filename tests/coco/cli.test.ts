import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../lib/cli/main.js';
import { startFixtureServer } from './fixture_server.js';

/**
 * Runs the CLI in-process; returns the exit code and what it printed. (stdout itself is left alone: the
 * test runner reports through it.)
 */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const [ew, log] = [process.stderr.write.bind(process.stderr), console.log];
  let out = '',
    err = '';
  process.stderr.write = ((s: string) => {
    err += s;
    return true;
  }) as typeof process.stderr.write;
  console.log = (...a: unknown[]) => {
    out += a.join(' ') + '\n';
  };
  try {
    return { code: await main(argv), out, err };
  } finally {
    process.stderr.write = ew;
    console.log = log;
  }
}

test('make-demo → subset through the CLI; a mistyped class exits 2 with "did you mean"', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
  const demo = await run(['make-demo', '--out', path.join(dir, 'demo'), '--images-per-split', '4', '--quiet']);
  assert.equal(demo.code, 0, demo.err);
  assert.match(demo.out, /wrote .*demo/);
  const sub = await run([
    'subset',
    '--coco-root',
    path.join(dir, 'demo'),
    '--out-root',
    path.join(dir, 'sub'),
    '--classes',
    'person',
    'traffic light',
    '--quiet',
  ]);
  assert.equal(sub.code, 0, sub.err);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'sub/label_map.json'), 'utf8')), {
    classes: ['person', 'traffic light'],
    categoryIds: [1, 10],
  });
  const bad = await run([
    'subset',
    '--coco-root',
    path.join(dir, 'demo'),
    '--out-root',
    path.join(dir, 'x'),
    '--classes',
    'persn',
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown class name\(s\) 'persn' .*; did you mean 'person'\?/);
});

test('prepare-coco with --mirror checks the official sizes: a mirror serving other bytes is refused (exit 2)', async () => {
  const srv = await startFixtureServer();
  try {
    srv.files.set('/annotations/annotations_trainval2017.zip', Buffer.from('not the real archive'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-coco-'));
    const r = await run([
      'prepare-coco',
      '--data-root',
      dir,
      '--download',
      '--annotations-only',
      '--mirror',
      srv.url,
      '--quiet',
      '--min-free-gb',
      '0',
    ]);
    assert.equal(r.code, 2);
    assert.match(r.err, /is 20 bytes on the server, expected 252907541/);
    assert.equal(srv.log[0].path, '/annotations/annotations_trainval2017.zip');
  } finally {
    await srv.close();
  }
});
