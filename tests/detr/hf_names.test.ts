import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../lib/engine/index.js';
import { Rng } from '../../lib/engine/rng.js';
import { detrSpecs, detrResnet50Table, isBnStatistic } from '../../lib/detr/hf_names.js';
import { DEFAULT_DETR, DEMO_DETR, resolveDetr } from '../../lib/detr/config.js';
import { ParamStore } from '../../lib/detr/param_store.js';
import { loadCheckpoint } from '../../lib/detr/weights.js';
import { configFromShapes } from '../../lib/detr/hf_config.js';
import { encodeSafetensors, parseSafetensors, TensorToWrite } from '../../lib/io/safetensors.js';

before(async () => {
  await initEngine({ backend: 'cpu', log: null });
});
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const B = 'model.backbone.conv_encoder.model.';

test('facebook/detr-resnet-50 table: counts of its model.safetensors', () => {
  const table = detrResnet50Table();
  const isFrozenBn = (n: string) => n.startsWith(B) && /\.(bn\d|downsample\.1)\./.test(n);
  const floats = (pred: (n: string) => boolean) =>
    [...table].filter(([n]) => pred(n)).reduce((s, [, sh]) => s + numel(sh), 0);
  assert.equal([...table.keys()].filter(isFrozenBn).length, 212); // 53 frozen BNs × 4 buffers
  assert.equal([...table.keys()].filter((n) => !isFrozenBn(n)).length, 318); // parameter tensors
  assert.equal(
    floats((n) => !isFrozenBn(n)),
    41_524_768,
  );
  assert.equal(floats(() => true) * 4, 166_524_032); // fp32 payload of model.safetensors
  assert.equal(
    floats((n) => n.startsWith(B) && !isFrozenBn(n)),
    23_454_912,
  ); // backbone convs
  assert.equal(
    floats((n) => /layer[234]\./.test(n) && !isFrozenBn(n)),
    23_232_512,
  );
  assert.equal(
    floats((n) => n.startsWith('model.encoder.layers.0.')),
    1_315_072,
  );
  assert.equal(
    floats((n) => n.startsWith('model.decoder.layers.0.')),
    1_578_752,
  );
  assert.equal(
    floats((n) => !n.startsWith(B)),
    18_069_856,
  ); // transformer + input proj + queries + heads
  assert.deepEqual(table.get('class_labels_classifier.weight'), [92, 256]);
  assert.deepEqual(table.get('model.input_projection.weight'), [256, 2048, 1, 1]);
  assert.deepEqual(table.get(`${B}layer2.0.downsample.0.weight`), [512, 256, 1, 1]);
  assert.deepEqual(table.get('bbox_predictor.layers.2.weight'), [4, 256]);
  const head11 = detrSpecs(resolveDetr({ numClasses: 10 })).filter((sp) =>
    sp.name.startsWith('class_labels_classifier'),
  );
  assert.equal(
    head11.reduce((sum, sp) => sum + numel(sp.hfShape), 0),
    2_827,
  );
  assert.equal(isBnStatistic(`${B}bn1.running_var`), true);
});

test('a synthetic safetensors file with every name and shape loads with nothing missing or unexpected', () => {
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, shape] of detrResnet50Table())
    tensors.set(name, { dtype: 'F16', shape, data: new Float32Array(numel(shape)).fill(0.5) });
  const file = parseSafetensors(encodeSafetensors(tensors, { format: 'pt' }));
  const store = new ParamStore(detrSpecs(DEFAULT_DETR));
  const report = loadCheckpoint(store, file, { rng: new Rng(0) });
  assert.deepEqual([report.missing, report.unexpected, report.reinitialised, report.shapeMismatch], [[], [], [], []]);
  assert.equal(report.loaded, 530);
  assert.equal(store.get('model.encoder.layers.5.fc1.weight').dataSync()[123], 0.5);
  const inferred = configFromShapes(new Map([...tensors].map(([n, t]) => [n, t.shape])));
  assert.deepEqual(inferred, DEFAULT_DETR);
  store.dispose();
});

test('configFromShapes recovers smaller variants', () => {
  for (const cfg of [
    resolveDetr({ numClasses: 7 }, 'demo'),
    resolveDetr({ backbone: { depth: 34, numStages: 4 }, numClasses: 3 }, 'demo'),
    resolveDetr({ backbone: { depth: 101 }, encoderLayers: 0, nHeads: 8 }),
  ]) {
    const shapes = new Map(detrSpecs(cfg).map((s) => [s.name, s.hfShape]));
    const got = configFromShapes(shapes, cfg.nHeads);
    assert.deepEqual({ ...got, backbone: { ...got.backbone, trainableFrom: cfg.backbone.trainableFrom } }, cfg);
  }
  assert.equal(DEMO_DETR.backbone.depth, 18);
});
