// Non-finite values never reach the model or the disk: a NaN gradient applies nothing, a NaN loss is
// refused before the update, a checkpoint with NaN is not written, a weight file with NaN is not loaded.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/backend.js';
import { Rng } from '../../lib/engine/rng.js';
import { DetrModel } from '../../lib/detr/model.js';
import { resolveDetr } from '../../lib/detr/config.js';
import { Replica } from '../../lib/train/replica.js';
import { writeCheckpoint, readCheckpoint, TrainerState } from '../../lib/train/checkpoint.js';
import { checkpointTensors, loadCheckpoint } from '../../lib/detr/weights.js';
import { writeSafetensors } from '../../lib/io/safetensors.js';
import { ParamStore } from '../../lib/detr/param_store.js';
import { detrSpecs } from '../../lib/detr/hf_names.js';
import { firstNonFinite } from '../../lib/engine/finite.js';
import { matchCosts } from '../../lib/detr/matcher.js';

before(async () => {
  await initEngine({ backend: 'wasm', log: null });
});

const cfg = () =>
  resolveDetr(
    {
      numClasses: 2,
      dModel: 16,
      nHeads: 2,
      encoderLayers: 1,
      decoderLayers: 1,
      ffnDim: 16,
      numQueries: 3,
      dropout: 0,
      backbone: { depth: 18, width: 4, numStages: 3, trainableFrom: 'all' },
    },
    'demo',
  );
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-finite-'));
const state: TrainerState = {
  epoch: 0,
  batchInEpoch: 1,
  step: 1,
  bestMetric: null,
  bestEpoch: null,
  lrs: { lr: 1, lrBackbone: 1 },
  seed: 0,
  epochComplete: false,
  savedAt: '',
};

async function values(model: DetrModel): Promise<Map<string, Float32Array>> {
  return new Map(
    await Promise.all(
      model.params.names().map(async (n) => [n, (await model.params.get(n).data()) as Float32Array] as const),
    ),
  );
}

test('firstNonFinite finds NaN, +Inf and -Inf, and nothing in finite data', () => {
  assert.equal(firstNonFinite([0, 1e38, -3]), -1);
  assert.equal(firstNonFinite(new Float32Array([1, NaN])), 1);
  assert.equal(firstNonFinite([1, 2, Infinity]), 2);
  assert.equal(firstNonFinite([-Infinity]), 0);
});

test('a gradient with one NaN: the replica applies nothing (weights and optimizer moments unchanged) and says so', async () => {
  const model = DetrModel.create(cfg(), new Rng(1));
  const replica = new Replica(model, { lr: 1e-3, lrBackbone: 1e-4, weightDecay: 1e-4, clipMaxNorm: 0.1 });
  const before = await values(model);
  const grads = new Map([...model.params.trainable()].map(([n, v]) => [n, tf.onesLike(v)] as [string, tf.Tensor]));
  const finite = await replica.apply(grads, 0.1, { lr: 1e-3, lrBackbone: 1e-4 });
  assert.equal(finite.applied, true);
  const after1 = await values(model);
  assert.notDeepEqual(after1, before, 'a finite gradient moves the weights');
  const name = [...grads.keys()][3];
  const nanGrads = new Map([...grads].map(([n, g]) => [n, n === name ? tf.fill(g.shape, NaN) : g]));
  const r = await replica.apply(nanGrads, 0, { lr: 1e-3, lrBackbone: 1e-4 });
  assert.equal(r.applied, false);
  assert.ok(Number.isNaN(r.gradNorm));
  assert.deepEqual(await values(model), after1, 'no weight moved');
  assert.equal((await replica.optimizer.state()).step, 1, 'the optimizer step count did not advance');
  replica.dispose();
});

test("the matcher refuses NaN predictions with a NonFiniteError (not the assignment solver's error)", async () => {
  const logits = tf.fill([1, 2, 3], NaN) as tf.Tensor3D,
    boxes = tf.fill([1, 2, 4], 0.5) as tf.Tensor3D;
  await assert.rejects(
    matchCosts(logits, boxes, [{ labels: [0], boxesCxcywh: [[0.5, 0.5, 0.2, 0.2]] }], {
      classCost: 1,
      bboxCost: 5,
      giouCost: 2,
    }),
    (e: Error) => e.name === 'NonFiniteError' && /non-finite values/.test(e.message),
  );
});

test('a checkpoint with a non-finite weight or moment is not written; the folder keeps the previous checkpoint', async () => {
  const model = DetrModel.create(cfg(), new Rng(2));
  const dir = path.join(tmp, 'ckpt', 'last');
  const v = await values(model);
  const m = new Map([...model.params.trainable()].map(([k, x]) => [k, new Float32Array(x.size)]));
  writeCheckpoint(dir, model, v, { names: ['a', 'b'] }, { step: 1, lrs: {}, m, v: m }, state);
  const good = fs.readFileSync(path.join(dir, 'model.safetensors'));
  const name = model.params.names()[5];
  const bad = new Map(v);
  bad.set(
    name,
    Float32Array.from(v.get(name)!, (x, i) => (i === 2 ? Infinity : x)),
  );
  assert.throws(
    () => writeCheckpoint(dir, model, bad, { names: ['a', 'b'] }, { step: 2, lrs: {}, m, v: m }, { ...state, step: 2 }),
    (e: Error) =>
      e.name === 'UserError' &&
      e.message.includes(`tensor ${name} holds Infinity`) &&
      /keeps the last finite checkpoint/.test(e.message),
  );
  const badM = new Map(m);
  const k0 = [...m.keys()][0];
  badM.set(k0, new Float32Array(m.get(k0)!.length).fill(NaN));
  assert.throws(
    () =>
      writeCheckpoint(dir, model, v, { names: ['a', 'b'] }, { step: 2, lrs: {}, m: badM, v: m }, { ...state, step: 2 }),
    new RegExp(`exp_avg\\.${k0.replace(/\./g, '\\.')} holds NaN`),
  );
  assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(good));
  assert.equal(readCheckpoint(dir).state.step, 1);
  assert.deepEqual(fs.readdirSync(path.dirname(dir)), ['last'], 'no temp folder was started');
  model.dispose();
});

test('loading weights with a NaN names the first bad tensor', () => {
  const store = new ParamStore(detrSpecs(cfg()));
  const model = DetrModel.create(cfg(), new Rng(3));
  const tensors = checkpointTensors(model.params);
  const name = 'model.input_projection.weight';
  const t = tensors.get(name)!;
  const data = Float32Array.from(t.data as Float32Array);
  data[7] = NaN;
  tensors.set(name, { ...t, data });
  const file = path.join(tmp, 'nan.safetensors');
  writeSafetensors(file, tensors, { format: 'pt' });
  assert.throws(
    () => loadCheckpoint(store, file, { rng: new Rng(0) }),
    (e: Error) =>
      e.name === 'UserError' &&
      e.message ===
        `${file}: tensor '${name}' holds NaN at index 7; a weight must be finite (a corrupt file, or a diverged run?)`,
  );
  model.dispose();
  store.dispose();
});
