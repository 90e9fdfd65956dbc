import { test } from 'node:test';
import assert from 'node:assert/strict';
import { epochHeader, epochLine, trainSummary } from '../../lib/train/console_table.js';

test('epoch table: 1-based epoch, mean train terms, val figures or "-", aligned under the header', () => {
  const head = epochHeader();
  const row = epochLine({
    epoch: 0,
    epochs: 3,
    step: 10,
    train: { loss_total: 4.5, loss_ce: 1, loss_bbox: 0.25, loss_giou: 0.5 },
    imgPerSec: 3.456,
    seconds: 75,
  });
  assert.equal(row.length, head.length);
  const cells = row.trim().split(/\s+/);
  assert.deepEqual(cells, ['1/3', '10', '4.500', '1.000', '0.250', '0.500', '-', '-', '-', '-', '3.46', '1m15s']);
  const withVal = epochLine({
    epoch: 2,
    epochs: 3,
    step: 30,
    train: { loss_total: 1 },
    val: { map: 0.1234, map_50: 0.5, mar_100: 0.25, loss_total: 2 },
    imgPerSec: 1,
    seconds: 5,
  });
  assert.deepEqual(withVal.trim().split(/\s+/).slice(6, 10), ['2.000', '0.123', '0.500', '0.250']);
});

test('final summary: the best epoch is 1-based and no JSON is printed', () => {
  const s = trainSummary({
    runDir: 'runs/x',
    steps: 30,
    epochsDone: 3,
    epochs: 3,
    stoppedEarly: false,
    seconds: 90,
    imgPerSec: 2,
    best: { map: 0.2, epoch: 0 },
    last: { map: 0.1, map_50: 0.3, mar_100: 0.4 },
    backend: 'wasm',
    workers: 2,
  });
  assert.match(s, /best val mAP 0\.2000 at epoch 1 /);
  assert.match(s, /3\/3 epoch\(s\), 30 steps in 1m30s/);
  assert.ok(!s.includes('{'));
});
