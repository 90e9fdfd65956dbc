import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunDir, LogRow } from '../../lib/io/run_dir.js';
import { lossRows, writeLossCurves } from '../../lib/train/loss_curves.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-run-'));

test('log.jsonl appends, survives a torn last line, and truncates for resume', () => {
  const run = new RunDir(tmp());
  run.writeConfig({ seed: 1 });
  for (let s = 1; s <= 4; s++) run.log({ split: 'train', step: s, epoch: 0, loss_ce: 1 / s });
  fs.appendFileSync(run.logFile, '{"split":"train","st');
  assert.equal(run.readLog().length, 4);
  run.truncateLog(2);
  assert.deepEqual(
    run.readLog().map((r) => r.step),
    [1, 2],
  );
  assert.deepEqual(run.readConfig(), { seed: 1 });
});

test('loss curves: long rows of the train split and a PNG', async () => {
  const log: LogRow[] = [
    { split: 'train', step: 1, epoch: 0, loss_ce: 2, loss_bbox: 1, loss_giou: 0.5, loss_total: 8 },
    { split: 'val', step: 1, epoch: 0, mAP: 0.1 },
    { split: 'train', step: 2, epoch: 1, loss_ce: 1, loss_bbox: NaN, loss_giou: 0.4, loss_total: 6 },
  ];
  const rows = lossRows(log);
  assert.equal(rows.length, 7);
  assert.deepEqual(
    rows.filter((r) => r.term === 'loss_bbox').map((r) => r.value),
    [1],
  );
  const f = path.join(tmp(), 'plots', 'loss_curves.png');
  await writeLossCurves(log, f);
  assert.deepEqual([...fs.readFileSync(f).subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
});
