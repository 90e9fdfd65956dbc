import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { CLASS_PALETTE, classColor, drawBoxes, sideBySide, textColorOn } from '../../lib/viz/overlay.js';
import { contactSheet } from '../../lib/viz/contact_sheet.js';

/** A uniform grey raw RGB image. */
const grey = (width: number, height: number) => ({ data: new Uint8Array(width * height * 3).fill(128), width, height });

async function pixels(png: Buffer) {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    at: (x: number, y: number) => [0, 1, 2].map((c) => data[(y * info.width + x) * 3 + c]),
    width: info.width,
    height: info.height,
  };
}

const near = (a: number[], b: number[], tol = 12) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

test('palette: fixed colour per label, wraps around, readable text colour', () => {
  assert.equal(classColor(0), '#e6194b');
  assert.equal(classColor(CLASS_PALETTE.length + 2), classColor(2));
  assert.equal(new Set(CLASS_PALETTE).size, CLASS_PALETTE.length);
  assert.equal(textColorOn('#000075'), '#ffffff');
  assert.equal(textColorOn('#ffe119'), '#000000');
});

test('drawBoxes: output size follows maxSide; the outline lies on the box edges, the inside and outside stay untouched', async () => {
  // 100×50 grey image, box x 10..40, y 10..30, drawn at scale 2 → edges at x = 20 and 80, y = 20 and 60.
  const png = await drawBoxes(grey(100, 50), [{ bboxXywh: [10, 10, 30, 20], color: '#ff0000' }], {
    maxSide: 200,
    lineWidth: 2,
  });
  const p = await pixels(png);
  assert.deepEqual([p.width, p.height], [200, 100]);
  assert.ok(near(p.at(20, 40), [255, 0, 0]), `left edge ${p.at(20, 40)}`);
  assert.ok(near(p.at(80, 40), [255, 0, 0]), `right edge ${p.at(80, 40)}`);
  assert.ok(near(p.at(50, 20), [255, 0, 0]), `top edge ${p.at(50, 20)}`);
  assert.ok(near(p.at(50, 60), [255, 0, 0]), `bottom edge ${p.at(50, 60)}`);
  assert.ok(near(p.at(50, 40), [128, 128, 128], 1), 'inside untouched');
  assert.ok(near(p.at(150, 80), [128, 128, 128], 1), 'outside untouched');
  assert.ok(near(p.at(16, 40), [128, 128, 128], 1), 'nothing beyond the halo');
});

test('drawBoxes: a caption strip adds height; a label tag sits above the box; dashed outlines have gaps', async () => {
  const titled = await pixels(await drawBoxes(grey(100, 50), [], { maxSide: 100, title: 'x', fontSize: 12 }));
  assert.deepEqual([titled.width, titled.height], [100, 72]);
  assert.ok(near(titled.at(90, 5), [255, 255, 255], 1), 'white caption strip');
  const tagged = await pixels(
    await drawBoxes(grey(100, 100), [{ bboxXywh: [20, 50, 40, 30], color: '#0000ff', text: 'car 0.9' }], {
      maxSide: 100,
      fontSize: 12,
    }),
  );
  assert.ok(near(tagged.at(20, 35), [19, 19, 236], 8), `tag above the box ${tagged.at(20, 35)}`);
  const dashed = await pixels(
    await drawBoxes(grey(100, 100), [{ bboxXywh: [10, 10, 80, 80], color: '#00ff00', dashed: true }], {
      maxSide: 100,
      lineWidth: 2,
    }),
  );
  const edge = Array.from({ length: 70 }, (_, i) => dashed.at(20 + i, 10));
  assert.ok(
    edge.some((c) => near(c, [0, 255, 0], 40)) && edge.some((c) => !near(c, [0, 255, 0], 80)),
    'dashes and gaps along the top edge',
  );
});

test('sideBySide and contactSheet: sizes add up', async () => {
  const a = await drawBoxes(grey(60, 40), [], { maxSide: 60 }),
    b = await drawBoxes(grey(40, 60), [], { maxSide: 60 });
  const pair = await sharp(await sideBySide([a, b], { gap: 8 })).metadata();
  assert.deepEqual([pair.width, pair.height], [60 + 8 + 40, 60]);
  const sheet = await sharp(
    await contactSheet(
      [a, b, a, b, a].map((image, i) => ({ image, caption: `#${i}` })),
      { columns: 3, cellWidth: 50, gap: 4, fontSize: 10 },
    ),
  ).metadata();
  // width: gap + 3·(50 + gap); rows: a → 50×33, b → 50×75 (scaled to width 50), caption 18, gaps 4.
  assert.equal(sheet.width, 4 + 3 * 54);
  assert.equal(sheet.height, 4 + (75 + 18 + 4) + (75 + 18 + 4));
});
