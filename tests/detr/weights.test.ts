import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import { Rng } from '../../lib/engine/rng.js';
import { ParamStore } from '../../lib/detr/param_store.js';
import { transformerSpecs } from '../../lib/detr/specs.js';
import { resolveDetr } from '../../lib/detr/config.js';
import { loadCheckpoint, saveCheckpoint, checkpointTensors, permuteLayout } from '../../lib/detr/weights.js';
import { fromHf, toHf } from '../../lib/detr/param_store.js';
import { fromHfConfig, toHfConfig, hfConfigJson } from '../../lib/detr/hf_config.js';
import {
  readSafetensors,
  toFloat32,
  encodeSafetensors,
  parseSafetensors,
  TensorToWrite,
} from '../../lib/io/safetensors.js';
import { isUserError } from '../../lib/params/user_error.js';
import { TINY, tinyStore, FEATURE_CHANNELS, maxAbsDiff } from './fixtures.js';

before(async () => {
  await initEngine({ backend: 'cpu', log: null });
});
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'detr-w-'));
const emptyStore = (cfg = TINY) => new ParamStore(transformerSpecs(cfg, FEATURE_CHANNELS));
const userErr = (re: RegExp) => (e: unknown) => isUserError(e) && re.test((e as Error).message);
const names = ['cat', 'dog', 'fish'];

test('save → load round trip is exact; files use PyTorch layout and HF names', () => {
  const dir = tmp();
  const a = tinyStore(TINY, 1);
  const files = saveCheckpoint(dir, a, TINY, { names, categoryIds: [17, 18, 1] });
  const st = readSafetensors(files.weights);
  assert.deepEqual(st.metadata, { format: 'pt' });
  const fc1 = st.tensors.get('model.encoder.layers.0.fc1.weight')!;
  assert.deepEqual(fc1.shape, [32, 16]); // [out, in]
  const ours = a.get('model.encoder.layers.0.fc1.weight').arraySync() as number[][]; // [in, out]
  assert.equal(toFloat32(fc1)[3 * 16 + 5], ours[5][3]);
  assert.deepEqual(st.tensors.get('model.input_projection.weight')!.shape, [16, FEATURE_CHANNELS, 1, 1]);
  const b = emptyStore();
  const report = loadCheckpoint(b, files.weights, { rng: new Rng(9) });
  assert.deepEqual(
    { ...report, loaded: 0 },
    { loaded: 0, missing: [], unexpected: [], reinitialised: [], shapeMismatch: [] },
  );
  assert.equal(report.loaded, a.specs.size);
  for (const n of a.names()) assert.equal(maxAbsDiff(a.get(n), b.get(n)), 0, n);
  const { cfg, labels } = fromHfConfig(JSON.parse(fs.readFileSync(files.config, 'utf8')));
  assert.deepEqual(cfg, TINY);
  assert.deepEqual(labels, { names, categoryIds: [17, 18, 1] });
  a.dispose();
  b.dispose();
  fs.rmSync(dir, { recursive: true });
});

/** A checkpoint of the same architecture with a 91-class head (92 rows), plus an I64 buffer. */
function coco91Checkpoint(): { file: ReturnType<typeof parseSafetensors>; head: number[][] } {
  const big = resolveDetr({ ...TINY, numClasses: 91 });
  const s = new ParamStore(transformerSpecs(big, FEATURE_CHANNELS)).initAll(new Rng(2));
  const tensors: Map<string, TensorToWrite> = checkpointTensors(s);
  tensors.set('model.backbone.conv_encoder.model.bn1.num_batches_tracked', { dtype: 'I64', shape: [], data: [0] });
  const head = tf.tidy(() => tf.transpose(s.get('class_labels_classifier.weight')).arraySync() as number[][]); // [92, D]
  s.dispose();
  return { file: parseSafetensors(encodeSafetensors(tensors)), head };
}

test('class head K mismatch: re-init like ignore_mismatched_sizes (N(0, 0.02), bias 0); unexpected I64 skipped', () => {
  const { file } = coco91Checkpoint();
  const s = emptyStore();
  const r = loadCheckpoint(s, file, { rng: new Rng(3) });
  assert.deepEqual(r.reinitialised, ['class_labels_classifier.weight', 'class_labels_classifier.bias']);
  assert.deepEqual(r.unexpected, ['model.backbone.conv_encoder.model.bn1.num_batches_tracked']);
  assert.deepEqual(r.missing, []);
  const w = Array.from(s.get('class_labels_classifier.weight').dataSync());
  const std = Math.sqrt(w.reduce((a, x) => a + x * x, 0) / w.length);
  assert.ok(std > 0.012 && std < 0.03, `std ${std}`);
  assert.ok(
    s
      .get('class_labels_classifier.bias')
      .dataSync()
      .every((x) => x === 0),
  );
  s.dispose();
});

test('--head-init coco-rows takes the pretrained rows of the category ids + the no-object row', () => {
  const { file, head } = coco91Checkpoint();
  const s = emptyStore();
  const r = loadCheckpoint(s, file, { rng: new Rng(3), headInit: 'coco-rows', categoryIds: [1, 3, 90] });
  assert.deepEqual(r.headRows, [1, 3, 90, 91]);
  assert.deepEqual(r.reinitialised, []);
  const w = tf.tidy(() => tf.transpose(s.get('class_labels_classifier.weight')).arraySync() as number[][]); // [4, D]
  assert.deepEqual(w, [head[1], head[3], head[90], head[91]]);
  assert.throws(
    () => loadCheckpoint(emptyStore(), file, { rng: new Rng(3), headInit: 'coco-rows', categoryIds: [1, 3, 91] }),
    userErr(/category id 91 has no row/),
  );
  assert.throws(
    () => loadCheckpoint(emptyStore(), file, { rng: new Rng(3), headInit: 'coco-rows' }),
    userErr(/needs the category id/),
  );
  s.dispose();
});

test('missing tensors, other shape mismatches and integer weights are UserErrors (nothing half-loaded)', () => {
  const a = tinyStore(TINY, 1);
  const all = checkpointTensors(a);
  const without = new Map(all);
  without.delete('model.decoder.layernorm.bias');
  const s = emptyStore();
  assert.throws(
    () => loadCheckpoint(s, parseSafetensors(encodeSafetensors(without)), { rng: new Rng(1) }),
    userErr(/1 model tensors missing.*model\.decoder\.layernorm\.bias/),
  );
  assert.equal(s.has('model.decoder.layernorm.weight'), false, 'a failed load sets nothing');
  const r = loadCheckpoint(s, parseSafetensors(encodeSafetensors(without)), { rng: new Rng(1), strict: false });
  assert.deepEqual(r.missing, ['model.decoder.layernorm.bias']);
  assert.ok(s.has('model.decoder.layernorm.bias'), 'missing tensors get their init');
  const wrong = new Map(all);
  wrong.set('model.encoder.layers.1.fc2.bias', { dtype: 'F32', shape: [15], data: new Float32Array(15) });
  assert.throws(
    () => loadCheckpoint(emptyStore(), parseSafetensors(encodeSafetensors(wrong)), { rng: new Rng(1) }),
    userErr(/shape mismatch for model\.encoder\.layers\.1\.fc2\.bias \[15\] vs model \[16\]/),
  );
  const ints = new Map(all);
  ints.set('model.decoder.layernorm.bias', { dtype: 'I32', shape: [16], data: new Int32Array(16) });
  assert.throws(
    () => loadCheckpoint(emptyStore(), parseSafetensors(encodeSafetensors(ints)), { rng: new Rng(1) }),
    userErr(/dtype I32/),
  );
  a.dispose();
  s.dispose();
});

test('F16 checkpoints load (values rounded to half precision)', () => {
  const a = tinyStore(TINY, 1);
  const s = emptyStore();
  loadCheckpoint(s, parseSafetensors(encodeSafetensors(checkpointTensors(a, 'F16'))), { rng: new Rng(1) });
  const d = maxAbsDiff(a.get('model.encoder.layers.0.fc1.weight'), s.get('model.encoder.layers.0.fc1.weight'));
  assert.ok(d > 0 && d < 1e-3, `${d}`);
  a.dispose();
  s.dispose();
});

test('config.json has the keys transformers reads; HF-only configs parse', () => {
  const j = toHfConfig(TINY, { names });
  for (const k of [
    'model_type',
    'id2label',
    'label2id',
    'num_labels',
    'd_model',
    'encoder_layers',
    'decoder_layers',
    'encoder_attention_heads',
    'encoder_ffn_dim',
    'num_queries',
    'backbone_config',
    'auxiliary_loss',
  ])
    assert.ok(k in j, k);
  // no Hub look-ups: transformers 5 resolves a top-level `backbone` (with backbone_kwargs) on the Hub
  for (const k of ['backbone', 'backbone_kwargs', 'use_timm_backbone']) assert.ok(!(k in j), k);
  assert.equal((j.backbone_config as { model_type: string }).model_type, 'resnet'); // TINY: a half-width ResNet-18
  assert.equal(j.auxiliary_loss, false); // the original DETR decoder, whatever detrlab trains with
  assert.deepEqual(j.id2label, { 0: 'cat', 1: 'dog', 2: 'fish' });
  const hfOnly = { ...j, detrlab: undefined, backbone_config: undefined, backbone: 'resnet50', backbone_kwargs: null };
  const { cfg } = fromHfConfig(JSON.parse(JSON.stringify(hfOnly)));
  assert.deepEqual(
    [cfg.numClasses, cfg.dModel, cfg.nHeads, cfg.encoderLayers, cfg.decoderLayers, cfg.ffnDim, cfg.numQueries],
    [3, 16, 2, 2, 3, 32, 5],
  );
  assert.deepEqual(cfg.backbone, { depth: 50, width: 64, numStages: 4, trainableFrom: 'layer2' });
  assert.throws(() => fromHfConfig({ model_type: 'yolos' }), userErr(/not 'detr'/));
  assert.throws(() => fromHfConfig({ ...hfOnly, dilation: true }), userErr(/dilation/));
});

test('config.json text: transformers float fields carry a decimal point, int fields are integral or absent', () => {
  const text = hfConfigJson({ ...TINY, initStd: 1, loss: { ...TINY.loss, eosCoef: 1, bboxWeight: 2.5 } }, { names });
  assert.match(text, /^ {2}"init_xavier_std": 1\.0,$/m);
  assert.match(text, /^ {2}"init_std": 1\.0,$/m);
  assert.match(text, /^ {2}"eos_coefficient": 1\.0,$/m);
  assert.ok(!/"bbox_loss_coefficient"/.test(text), 'a non-integral value of an int field is left to detrlab.config');
  assert.equal(JSON.parse(text).detrlab.config.loss.bboxWeight, 2.5);
});

test('plain-JS layout permutation equals the tensor transposes of param_store', () => {
  const rng = new Rng(4);
  const cases: Array<[number[], 'conv' | 'linear' | 'plain']> = [
    [[5, 3, 2, 4], 'conv'],
    [[6, 7], 'linear'],
    [[9], 'plain'],
  ];
  for (const [shape, layout] of cases) {
    const data = rng.normals(shape.reduce((a, b) => a * b, 1));
    const ours = tf.tidy(() => Array.from(fromHf(tf.tensor(data, [...shape]), layout).dataSync()));
    assert.deepEqual(Array.from(permuteLayout(data, [...shape], layout, 'fromHf')), ours);
    const back = tf.tidy(() => Array.from(toHf(fromHf(tf.tensor(data, [...shape]), layout), layout).dataSync()));
    assert.deepEqual(
      Array.from(permuteLayout(permuteLayout(data, [...shape], layout, 'fromHf'), [...shape], layout, 'toHf')),
      back,
    );
  }
});
