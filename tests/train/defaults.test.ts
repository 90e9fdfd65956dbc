import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { effectiveAugment } from '../../lib/train/fit.js';
import { resolveTrain } from '../../lib/train/config.js';
import { withRunDataRoot } from '../../lib/eval/stage_inputs.js';

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
