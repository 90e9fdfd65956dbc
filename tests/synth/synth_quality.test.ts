/**
 * synthQuality on a synth folder whose "synthetic" images are the real crops themselves, with control maps made
 * from those crops exactly as `detrlab synth` makes them: every edge IoU is 1 and the per-class table lists each class.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { controlFromCrop } from '../../lib/synth/control_image.js';
import { qualityTable, synthQuality } from '../../lib/synth/synth_quality.js';

test('synthQuality: images identical to their source crops have edge IoU 1 with their control maps', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-squal-'));
  const recs: string[] = [];
  for (const [c, k] of [
    ['cat', 0],
    ['dog', 1],
    ['dog', 2],
  ] as const) {
    const px = Buffer.alloc(64 * 64 * 3, 90);
    for (let y = 10 + k * 5; y < 40; y++)
      for (let x = 12; x < 30 + k * 8; x++) px.set([230, 200 - k * 60, 20], (y * 64 + x) * 3);
    const file = `${c}/${k}.png`,
      ctl = `control/${c}/${k}.png`;
    fs.mkdirSync(path.join(dir, c), { recursive: true });
    fs.mkdirSync(path.join(dir, 'control', c), { recursive: true });
    await sharp(px, { raw: { width: 64, height: 64, channels: 3 } })
      .png()
      .toFile(path.join(dir, file));
    fs.writeFileSync(
      path.join(dir, ctl),
      (await controlFromCrop(path.join(dir, file), 64, { low: 50, high: 100 })).png,
    );
    recs.push(JSON.stringify({ file, class: c, index: k, controlImage: ctl }));
  }
  fs.writeFileSync(path.join(dir, 'metadata.jsonl'), recs.join('\n') + '\n');
  const q = await synthQuality({ synth: dir, crops: dir });
  assert.equal(q.images, 3);
  assert.deepEqual(q.edgeIoU.perClass, { cat: 1, dog: 1 });
  assert.equal(q.edgeIoU.mean, 1);
  assert.ok(fs.existsSync(path.join(dir, 'synth_quality.json')));
  assert.match(qualityTable(q), /\| dog \| — \| — \| 1\.000 \|/);
});
