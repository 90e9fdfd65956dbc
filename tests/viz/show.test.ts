import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { show } from '../../lib/viz/show.js';

const req = createRequire(__filename);
type Msg = { data: Record<string, string>; metadata: Record<string, { width: number; height: number }> };

test('in a notebook a chart is one output with image/svg+xml, image/png (2×, CSS size in metadata), an <img> as text/html and text/plain', async () => {
  const jupyter = req('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };
  const sent: Msg[] = [];
  jupyter.lastWriteDisplayData = (msg: Msg) => {
    sent.push(msg);
  }; // what a tslab kernel installs while a cell runs
  try {
    await show({
      title: 'bars',
      mark: 'bar',
      width: 120,
      height: 80,
      data: {
        values: [
          { a: 'x', b: 1 },
          { a: 'y', b: 3 },
        ],
      },
      encoding: { x: { field: 'a', type: 'nominal' }, y: { field: 'b', type: 'quantitative' } },
    });
  } finally {
    jupyter.lastWriteDisplayData = null;
  }
  assert.equal(sent.length, 1, 'one display_data output, not one per MIME type');
  const { data, metadata } = sent[0];
  assert.deepEqual(Object.keys(data).sort(), ['image/png', 'image/svg+xml', 'text/html', 'text/plain']);
  const uri = /^<img src="data:image\/svg\+xml;base64,([^"]+)" width="\d+" height="\d+" alt="chart: bars"\/>$/.exec(
    data['text/html'],
  );
  assert.ok(uri, data['text/html'].slice(0, 80));
  assert.equal(Buffer.from(uri[1], 'base64').toString(), data['image/svg+xml']);
  assert.match(data['image/svg+xml'], /^<svg[\s\S]*<\/svg>$/);
  const png = Buffer.from(data['image/png'], 'base64');
  const meta = await sharp(png).metadata();
  const svgMeta = await sharp(Buffer.from(data['image/svg+xml'])).metadata();
  assert.deepEqual(metadata['image/png'], { width: svgMeta.width, height: svgMeta.height });
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 2 * svgMeta.width!, 2 * svgMeta.height!]);
  // the PNG has the chart drawn (not a blank box): the bars' default colour is present
  const { data: px, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let bar = 0;
  for (let i = 0; i < px.length; i += info.channels)
    if (px[i] === 0x4c && px[i + 1] === 0x78 && px[i + 2] === 0xa8) bar++;
  assert.ok(bar > 100, `${bar} pixels of the bar colour #4c78a8`);
});
