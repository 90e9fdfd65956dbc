import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markdownTable, htmlTable, textTable } from '../../lib/viz/table.js';
import { renderSvg, renderPng, isVlSpec } from '../../lib/viz/vega_render.js';
import { lineChart, barChart } from '../../lib/viz/charts.js';

const rows = [
  { class: 'person', ap: 0.5, n: 10 },
  { class: 'a|b', ap: 0.25, n: 3 },
];

test('tables', () => {
  assert.equal(
    markdownTable(rows, 2),
    '| class | ap | n |\n| --- | ---: | ---: |\n| person | 0.50 | 10 |\n| a\\|b | 0.25 | 3 |',
  );
  assert.match(htmlTable([{ x: '<b>' }]), /&lt;b&gt;/);
  assert.equal(textTable(rows, 1).split('\n')[0], 'class   ap   n');
});

test('vega-lite specs render to SVG and PNG headless', async () => {
  const spec = lineChart(
    [
      { step: 0, loss: 2 },
      { step: 1, loss: 1 },
    ],
    'step',
    'loss',
    { title: 'loss' },
  );
  assert.ok(isVlSpec(spec) && isVlSpec(barChart(rows, 'class', 'n')));
  assert.ok(!isVlSpec(rows) && !isVlSpec(new Uint8Array(2)));
  const svg = await renderSvg(spec);
  assert.match(svg, /^<svg[\s\S]*<\/svg>$/);
  assert.match(svg, />loss</);
  const png = await renderPng(barChart(rows, 'class', 'n'));
  assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
});

test('danfo data frames from log rows, grouped, render as tables', async () => {
  const { logFrame, frameRows, isDataFrame } = await import('../../lib/viz/frames.js');
  const df = await logFrame(
    [
      { split: 'train', epoch: 0, loss: 2 },
      { split: 'train', epoch: 0, loss: 4 },
      { split: 'val', epoch: 0, map: 0.5 },
      { split: 'train', epoch: 1, loss: 1 },
    ],
    'train',
  );
  const g = df.groupby(['epoch']).agg({ loss: 'mean' });
  assert.ok(isDataFrame(g));
  assert.deepEqual(frameRows(g), [
    { epoch: 0, loss_mean: 3 },
    { epoch: 1, loss_mean: 1 },
  ]);
});
