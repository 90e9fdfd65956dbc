import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runNotebooks } from '../../lib/notebook/runner.js';
import { LiveConsole } from '../../lib/notebook/live_console.js';
import { Notebook } from '../../lib/notebook/nbformat.js';
import { runSummary, summaryLines, stageParameter } from '../../lib/notebook/run_summary.js';
import { renderReport } from '../../lib/notebook/report.js';

const code = (src: string, tags?: string[]) => ({
  cell_type: 'code' as const,
  metadata: tags ? { tags } : {},
  source: src,
  outputs: [],
  execution_count: null,
});
const nbOf = (cells: ReturnType<typeof code>[]): Notebook => ({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells });

test(
  "the runner forwards a stage's progress bar and printed lines to its console, and ends with the summary",
  { timeout: 120_000 },
  async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-live-'));
    const dir = path.join(root, 'notebooks');
    fs.mkdirSync(dir);
    const progressJs = path.resolve(__dirname, '../../lib/viz/progress.js');
    fs.writeFileSync(
      path.join(dir, '01_bar.ipynb'),
      JSON.stringify(
        nbOf([
          code('const params = { n: 3 };', ['parameters']),
          code(
            `const { progress } = require(${JSON.stringify(progressJs)});\nconst bar = progress({ total: params.n, label: 'work', unit: 'step' });\n` +
              'for (let i = 0; i < params.n; i++) bar.tick(1, { loss: 0.5 });\nbar.log("table row");\nbar.done();',
          ),
        ]),
      ),
    );
    const out: string[] = [];
    const live = new LiveConsole({ write: (s) => out.push(s), isTty: false, quiet: false, everyMs: 0, keepMs: 0 });
    const env = process.env.DETRLAB_QUIET;
    delete process.env.DETRLAB_QUIET; // the kernel inherits it: bars must be drawn
    try {
      const res = await runNotebooks({
        profile: 'demo',
        only: [],
        parameters: {},
        notebooksDir: dir,
        outDir: path.join(root, 'runs'),
        live,
      });
      assert.equal(res.ok, true);
    } finally {
      if (env !== undefined) process.env.DETRLAB_QUIET = env;
    }
    const text = out.join('');
    assert.match(text, /\[01_bar\] work .*1\/3 step/);
    assert.match(text, /\[01_bar\] work .*3\/3 step .*in /); // the finished bar
    assert.match(text, /\[01_bar\] table row\n/);
    assert.match(text, /\nresults\n {2}detection {2}no metrics/);
    assert.match(text, /report: .*report\.html\n$/);
    const report = fs.readFileSync(path.join(root, 'runs', 'report.html'), 'utf8');
    assert.ok(!report.includes('\r'));
  },
);

test("run summary: figures read from the run's metrics file and ablation.json, named by the stages' parameters", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-sum-'));
  fs.mkdirSync(path.join(root, 'run', 'metrics'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'run', 'metrics', 'val_metrics.json'),
    JSON.stringify({ statsByName: { map: 0.25, map_50: 0.5, mar_100: 0.375 }, inference: { images: 40 } }),
  );
  fs.mkdirSync(path.join(root, 'abl'));
  fs.writeFileSync(
    path.join(root, 'abl', 'ablation.json'),
    JSON.stringify({ real: { best_val_acc: 0.5 }, real_synth: { best_val_acc: 0.625 }, delta: 0.125, seeds: [0] }),
  );
  const evalNb = nbOf([
    code(`const params = {\n  run: '${path.join(root, 'run')}', // folder\n  split: 'val',\n};`, ['parameters']),
  ]);
  const ablNb = nbOf([code("const params = { outputDir: 'x' };", ['parameters'])]);
  ablNb.metadata = { detrlab: { parameters: { outputDir: path.join(root, 'abl') } } }; // injected wins over the literal
  assert.equal(stageParameter(ablNb, 'outputDir'), path.join(root, 'abl'));
  const stages = [
    { name: '04_eval.ipynb', status: 'ok', ms: 61_000, nb: evalNb },
    { name: '09_ablation.ipynb', status: 'cached', ms: 5_000, nb: ablNb },
  ];
  const s = runSummary(stages);
  assert.deepEqual(
    [s.detection?.map, s.detection?.map50, s.detection?.ar100, s.detection?.images],
    [0.25, 0.5, 0.375, 40],
  );
  assert.deepEqual([s.ablation?.real, s.ablation?.realSynth, s.ablation?.delta], [0.5, 0.625, 0.125]);
  const lines = summaryLines(s, 'r.html').join('\n');
  assert.match(lines, /mAP 0\.250 {2}mAP50 0\.500 {2}AR@100 0\.375/);
  assert.match(lines, /real 0\.500 → real\+synth 0\.625, Δ \+0\.125/);
  assert.match(lines, /04 1m01s · 09 cached {2}\(total 1m01s\)/);
  const html = await renderReport(stages as never, { title: 't', profile: 'demo', started: new Date(0) });
  assert.ok(html.indexOf('<h2>Results</h2>') < html.indexOf('<h2>Contents</h2>'));
  assert.match(html, /<a href="#stage-04_eval">Detection<\/a>/);
  assert.match(html, /<a href="#stage-09_ablation">Rare-class ablation<\/a>/);
});

test('report: backend notices only in the environment stage; images open full size', async () => {
  const stream = (text: string) => ({ output_type: 'stream' as const, name: 'stderr' as const, text });
  const img = { output_type: 'display_data' as const, data: { 'image/png': 'iVBORw0KGgo=' }, metadata: {} };
  const withOut = (outputs: unknown[]) => nbOf([{ ...code('x'), outputs: outputs as never[] }]);
  const html = await renderReport(
    [
      { name: '00_environment.ipynb', status: 'ok', ms: 1, nb: withOut([stream('[engine] wasm backend (env)\n')]) },
      {
        name: '03_train_detr.ipynb',
        status: 'ok',
        ms: 1,
        nb: withOut([stream('[engine] wasm backend (train)\n[train] started\n'), img]),
      },
    ],
    { title: 't', profile: 'demo', started: new Date(0) },
  );
  assert.ok(html.includes('[engine] wasm backend (env)'));
  assert.ok(!html.includes('(train)'));
  assert.ok(html.includes('[train] started'));
  assert.match(html, /<img class="zoom"[^>]*src="data:image\/png;base64,iVBORw0KGgo="/);
  assert.match(html, /id="lightbox"/);
});
