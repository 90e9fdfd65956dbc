import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { effectiveAugment } from '../../lib/train/fit.js';
import { resolveTrain } from '../../lib/train/config.js';
import { valAugment, withRunDataRoot } from '../../lib/eval/stage_inputs.js';
import { readRunRecord, writeRunRecord } from '../../lib/io/run_record.js';
import { DEMO_AUGMENT } from '../../lib/data/augment.js';

test("the demo model implies the demo augmentation unless told otherwise; defaults are the demo pipeline's", () => {
  const d = resolveTrain({});
  assert.deepEqual(
    [d.dataRoot, d.modelName, d.outputDir, d.augment],
    ['data/demo_subset', 'demo', 'runs/detr_demo', 'auto'],
  );
  assert.equal(effectiveAugment(d), 'demo');
  assert.equal(effectiveAugment({ ...d, modelName: 'scratch:demo' }), 'demo');
  assert.equal(effectiveAugment({ ...d, modelName: 'facebook/detr-resnet-50' }), 'detr');
  assert.equal(effectiveAugment({ ...d, weights: 'x.safetensors' }), 'detr');
  assert.equal(effectiveAugment({ ...d, augment: 'detr' }), 'detr');
  assert.equal(effectiveAugment({ ...d, modelName: 'facebook/detr-resnet-50', augment: 'demo' }), 'demo');
});

test('eval-type stages take the data root the run recorded, unless one is given', () => {
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-run-'));
  assert.equal(withRunDataRoot({ run, dataRoot: '' }).dataRoot, 'data/demo_subset'); // no config.json yet
  fs.writeFileSync(
    path.join(run, 'config.json'),
    JSON.stringify({ stage: 'train', params: { dataRoot: 'data/coco_subset' } }),
  );
  assert.equal(withRunDataRoot({ run, dataRoot: '' }).dataRoot, 'data/coco_subset');
  assert.equal(withRunDataRoot({ run, dataRoot: 'data/other' }).dataRoot, 'data/other');
});

test('a run_record.json is what later stages read: data root and validation resize; a malformed one is refused', () => {
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-rec-'));
  fs.writeFileSync(
    path.join(run, 'config.json'),
    JSON.stringify({ params: { dataRoot: 'data/from_config', valSize: 999 } }),
  );
  assert.equal(withRunDataRoot({ run, dataRoot: '' }).dataRoot, 'data/from_config', 'an older run: its config.json');
  writeRunRecord(run, {
    dataRoot: 'data/from_record',
    augment: { ...DEMO_AUGMENT, valSize: 96, maxSize: 160 },
    classes: ['a'],
  });
  assert.equal(withRunDataRoot({ run, dataRoot: '' }).dataRoot, 'data/from_record');
  const aug = valAugment(run, { valSize: 0, maxSize: 0 });
  assert.deepEqual([aug.valSize, aug.maxSize], [96, 160]);
  assert.deepEqual([valAugment(run, { valSize: 64, maxSize: 0 }).valSize], [64], 'a flag still wins');
  fs.writeFileSync(path.join(run, 'run_record.json'), JSON.stringify({ version: 1, dataRoot: 'x' }));
  assert.throws(
    () => readRunRecord(run),
    (e: Error) => e.name === 'UserError' && /not a version-1 training run record/.test(e.message),
  );
});
