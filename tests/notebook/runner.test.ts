import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runNotebooks, listNotebooks } from '../../lib/notebook/runner.js';
import { Notebook } from '../../lib/notebook/nbformat.js';
import { isUserError } from '../../lib/params/user_error.js';

function writeNb(dir: string, name: string, cells: Array<[string, string, string[]?]>): void {
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    cells: cells.map(([type, src, tags]) =>
      type === 'code'
        ? { cell_type: 'code', metadata: tags ? { tags } : {}, source: src, outputs: [], execution_count: null }
        : { cell_type: 'markdown', metadata: {}, source: src },
    ),
  };
  fs.writeFileSync(path.join(dir, name), JSON.stringify(nb));
}

test(
  'runs notebooks on the tslab kernel with injected parameters, display updates, and a report; stops at a failing cell',
  { timeout: 120_000 },
  async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-nb-'));
    const dir = path.join(root, 'notebooks');
    fs.mkdirSync(dir);
    writeNb(dir, '01_ok.ipynb', [
      ['markdown', '# One\nhello'],
      ['code', 'const params = { n: 2, name: "x" };', ['parameters']],
      [
        'code',
        'const tslab = require("tslab");\nconst d = tslab.newDisplay();\nd.text("step 0");\nd.text("step 1 of " + params.n);\nconsole.log("n=" + params.n * 10);',
      ],
      ['code', 'tslab.display.html("<b>" + params.name + "</b>");'],
    ]);
    writeNb(dir, '02_fail.ipynb', [
      ['code', 'const params = { n: 0 };', ['parameters']],
      ['code', 'console.log("before");'],
      ['code', 'throw new Error("deliberate failure " + params.n);'],
      ['code', 'console.log("never");'],
    ]);
    writeNb(dir, '03_never.ipynb', [['code', 'console.log(1)']]);
    const out = path.join(root, 'runs');
    const res = await runNotebooks({
      profile: 'demo',
      only: [],
      parameters: { n: 7 },
      notebooksDir: dir,
      outDir: out,
      log: () => {},
    });
    assert.equal(res.ok, false);
    assert.deepEqual(
      res.stages.map((s) => s.status),
      ['ok', 'failed', 'not run'],
    );
    assert.equal(res.failed?.notebook, '02_fail.ipynb');
    assert.equal(res.failed?.cellIndex, 3);
    const ok = JSON.parse(fs.readFileSync(path.join(out, 'notebooks', '01_ok.ipynb'), 'utf8')) as Notebook;
    assert.deepEqual(ok.cells[2].metadata.tags, ['injected-parameters']);
    const outs = JSON.stringify((ok.cells[3] as { outputs: unknown[] }).outputs);
    assert.match(outs, /n=70/);
    assert.match(outs, /step 1 of 7/, 'the display was updated in place');
    assert.doesNotMatch(outs, /step 0/);
    assert.match(JSON.stringify(ok.cells[4]), /<b>x<\/b>/);
    const failed = JSON.parse(fs.readFileSync(path.join(out, 'notebooks', '02_fail.ipynb'), 'utf8')) as Notebook;
    assert.match(JSON.stringify(failed.cells[3]), /deliberate failure 7/);
    assert.equal((failed.cells[4] as { execution_count: number | null }).execution_count, null);
    const html = fs.readFileSync(res.reportPath, 'utf8');
    assert.match(html, /<h1>One<\/h1>/);
    assert.match(html, /deliberate failure 7/);
    assert.match(html, /class="failed">failed/);
    assert.match(html, /class="not-run">not run/);
  },
);

test('--only selects by prefix and rejects unknown names', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-nb-'));
  for (const n of ['01_a.ipynb', '02_b.ipynb', 'scratch.ipynb']) fs.writeFileSync(path.join(dir, n), '{}');
  assert.deepEqual(listNotebooks(dir), ['01_a.ipynb', '02_b.ipynb']);
  assert.deepEqual(listNotebooks(dir, ['02']), ['02_b.ipynb']);
  assert.throws(
    () => listNotebooks(dir, ['09']),
    (e: unknown) => isUserError(e) && /no notebook matches 09/.test((e as Error).message),
  );
});

test(
  'a second run skips unchanged stages; a changed parameter, a deleted output or --force re-runs',
  { timeout: 120_000 },
  async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-cache-'));
    const dir = path.join(root, 'notebooks');
    fs.mkdirSync(dir);
    const out = path.join(root, 'runs', 'demo');
    const made = path.join(root, 'data', 'made');
    const prev = process.cwd();
    process.chdir(root); // the runner watches data/ and runs/ under the working directory
    try {
      writeNb(dir, '01_make.ipynb', [
        ['code', 'const params = { n: 1 };', ['parameters']],
        [
          'code',
          `const fs = require("node:fs");\nfs.mkdirSync(${JSON.stringify(made)}, { recursive: true });\nfs.writeFileSync(${JSON.stringify(made + '/x.txt')}, String(params.n) + Date.now());`,
        ],
      ]);
      writeNb(dir, '02_use.ipynb', [
        ['code', 'const params = { m: 1 };', ['parameters']],
        ['code', `console.log(require("node:fs").readFileSync(${JSON.stringify(made + '/x.txt')}, "utf8"))`],
      ]);
      const run = async (parameters: Record<string, unknown> = {}, force = false, only: string[] = []) =>
        (
          await runNotebooks({
            profile: 'demo',
            only,
            parameters,
            notebooksDir: dir,
            outDir: out,
            force,
            codeVersion: 'test',
            log: () => {},
          })
        ).stages.map((s) => s.status);
      assert.deepEqual(await run(), ['ok', 'ok']);
      assert.deepEqual(await run(), ['cached', 'cached']);
      assert.deepEqual(await run({ m: 2 }), ['cached', 'ok'], 'only the stage whose parameter changed');
      assert.deepEqual(await run({ n: 2, m: 2 }), ['ok', 'ok'], 'a change upstream re-runs what follows');
      fs.rmSync(path.join(root, 'data', 'made'), { recursive: true });
      assert.deepEqual(await run({ n: 2, m: 2 }), ['ok', 'ok'], 'deleted outputs re-run their stage');
      assert.deepEqual(await run({ n: 2, m: 2 }, true), ['ok', 'ok'], '--force');
      assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /class="ok">ok/);
      // --only: the other stage keeps its place in the report with its executed copy from the earlier run
      assert.deepEqual(await run({ n: 2, m: 2 }, true, ['02']), ['earlier run', 'ok']);
      const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
      assert.match(html, /01_make\.ipynb · earlier run/);
    } finally {
      process.chdir(prev);
    }
  },
);
