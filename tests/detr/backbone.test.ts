/**
 * DETR's ResNet backbone: HF spec table (counts of facebook/detr-resnet-50's `model.safetensors`), PyTorch padding on
 * even and odd sizes
 * against a loop reference (resnet_reference.ts) with folded and unfolded frozen BN, max-pool padding,
 * output shapes, no tensor leaks.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import { Rng } from '../../lib/engine/rng.js';
import { ParamStore, type TensorSpec } from '../../lib/detr/param_store.js';
import { backboneForward, backboneOutChannels, backboneSpecs, type BackboneConfig } from '../../lib/detr/backbone.js';
import { maxPoolRef, resnetRef, type Image } from './resnet_reference.js';

const P = 'model.backbone.conv_encoder.model.';
const R50: BackboneConfig = { depth: 50, width: 64, numStages: 4, trainableFrom: 'layer2' };
const numel = (s: TensorSpec): number => s.hfShape.reduce((a, b) => a * b, 1);
const total = (specs: TensorSpec[]): number => specs.reduce((a, s) => a + numel(s), 0);

before(async () => {
  await initEngine({ backend: 'wasm', log: null });
});

test('ResNet-50 spec table: HF names, shapes and the counts of the checkpoint', () => {
  const specs = backboneSpecs(R50);
  const byName = new Map(specs.map((s) => [s.name, s]));
  const convs = specs.filter((s) => s.layout === 'conv'),
    bns = specs.filter((s) => s.name.endsWith('.running_var'));
  assert.equal(bns.length, 53);
  assert.equal(convs.length, 53);
  assert.equal(total(convs), 23_454_912); // backbone parameters
  assert.equal(total(convs.filter((s) => /layer[234]\./.test(s.name))), 23_232_512);
  assert.equal(total(specs.filter((s) => s.layout === 'plain')), 106_240); // BN buffers (4 per BN)
  assert.equal(total(specs.filter((s) => s.trainable)), 23_232_512); // HF rule: conv1 + layer1 frozen
  const shape = (n: string): number[] | undefined => byName.get(P + n)?.hfShape;
  assert.deepEqual(shape('conv1.weight'), [64, 3, 7, 7]);
  assert.deepEqual(shape('layer1.0.conv1.weight'), [64, 64, 1, 1]);
  assert.deepEqual(shape('layer1.0.downsample.0.weight'), [256, 64, 1, 1]);
  assert.deepEqual(shape('layer2.0.conv1.weight'), [128, 256, 1, 1]);
  assert.deepEqual(shape('layer2.0.conv2.weight'), [128, 128, 3, 3]);
  assert.deepEqual(shape('layer3.5.bn3.running_var'), [1024]);
  assert.deepEqual(shape('layer4.2.conv3.weight'), [2048, 512, 1, 1]);
  assert.deepEqual(shape('layer4.0.downsample.1.bias'), [2048]);
  for (const [L, n] of [
    [1, 3],
    [2, 4],
    [3, 6],
    [4, 3],
  ]) {
    assert.ok(
      byName.has(`${P}layer${L}.${n - 1}.conv3.weight`) && !byName.has(`${P}layer${L}.${n}.conv1.weight`),
      `layer${L} has ${n} blocks`,
    );
  }
  assert.deepEqual(
    specs.slice(0, 6).map((s) => s.name.slice(P.length)),
    ['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'layer1.0.conv1.weight'],
  );
  for (const s of specs) {
    assert.equal(s.group, 'backbone');
    if (s.layout === 'plain') assert.equal(s.trainable, false, `${s.name} is a frozen BN buffer`);
    else assert.deepEqual(s.init, { kind: 'kaimingOut' });
  }
  assert.equal(byName.get(`${P}bn1.running_var`)?.init.kind, 'ones');
  assert.equal(byName.get(`${P}bn1.running_mean`)?.init.kind, 'zeros');
  assert.equal(backboneSpecs({ ...R50, trainableFrom: 'all' }).filter((s) => s.trainable).length, 53);
  assert.equal(backboneSpecs({ ...R50, trainableFrom: 'none' }).filter((s) => s.trainable).length, 0);
});

test('ResNet-18/34: basic blocks (two 3×3 convs), no layer1 downsample', () => {
  const names = new Set(backboneSpecs({ ...R50, depth: 18 }).map((s) => s.name.slice(P.length)));
  assert.ok(
    names.has('layer1.1.conv2.weight') &&
      !names.has('layer1.0.conv3.weight') &&
      !names.has('layer1.0.downsample.0.weight'),
  );
  assert.ok(names.has('layer2.0.downsample.0.weight'));
  assert.equal(backboneSpecs({ ...R50, depth: 34 }).filter((s) => s.layout === 'conv').length, 1 + 2 * 16 + 3);
});

test('output channels and shapes for depths 18/34/50, 3 and 4 stages (PyTorch size arithmetic)', () => {
  assert.equal(backboneOutChannels(R50), 2048);
  assert.equal(backboneOutChannels({ ...R50, numStages: 3 }), 1024);
  assert.equal(backboneOutChannels({ ...R50, depth: 18 }), 512);
  assert.equal(backboneOutChannels({ ...R50, depth: 34, width: 32, numStages: 3 }), 128);
  const down = (n: number, k: number, pad: number): number => Math.floor((n + 2 * pad - k) / 2) + 1;
  for (const depth of [18, 34, 50] as const) {
    for (const numStages of [3, 4] as const) {
      const cfg: BackboneConfig = { depth, width: 4, numStages, trainableFrom: 'all' };
      const p = new ParamStore(backboneSpecs(cfg)).initAll(new Rng(depth));
      const y = tf.tidy(() => backboneForward(p, cfg, tf.zeros([2, 45, 38, 3]) as tf.Tensor4D));
      let h = down(down(45, 7, 3), 3, 1),
        w = down(down(38, 7, 3), 3, 1); // stem conv + max-pool
      for (let L = 2; L <= numStages; L++) {
        h = down(h, 3, 1);
        w = down(w, 3, 1);
      }
      assert.deepEqual(y.shape, [2, h, w, backboneOutChannels(cfg)], `depth ${depth}, ${numStages} stages`);
      y.dispose();
      p.dispose();
    }
  }
});

/** Random BN statistics (identity BN would hide mistakes) and an input image. */
function randomNet(cfg: BackboneConfig, seed: number): ParamStore {
  const rng = new Rng(seed);
  const p = new ParamStore(backboneSpecs(cfg)).initAll(rng);
  for (const name of p.names()) {
    const n = p.get(name).size;
    if (name.endsWith('running_var'))
      p.set(name, tf.tensor1d(Float32Array.from({ length: n }, () => rng.uniform(0.5, 2))), true);
    else if (/bn\d\.|downsample\.1\./.test(name))
      p.set(name, tf.tensor1d(rng.normals(n, 0.3, name.endsWith('.weight') ? 1 : 0)), true);
  }
  return p;
}

for (const [depth, H, W] of [
  [18, 37, 29],
  [18, 32, 24],
  [50, 35, 30],
] as const) {
  test(`ResNet-${depth} forward on ${H}×${W} equals the loop reference, BN unfolded and folded`, () => {
    const cfg: BackboneConfig = { depth, width: 4, numStages: 3, trainableFrom: 'all' };
    const p = randomNet(cfg, depth + H);
    const img = new Rng(H * W).normals(H * W * 3);
    const weights = (name: string) =>
      p.has(name) ? { shape: p.get(name).shape, values: p.get(name).dataSync() as Float32Array } : undefined;
    const ref = resnetRef({ h: H, w: W, c: 3, v: Float64Array.from(img) }, weights, depth, 3);
    const x = tf.tensor4d(img, [1, H, W, 3]);
    const eval_ = tf.tidy(() => backboneForward(p, cfg, x)).dataSync(); // inference: BN applied after the conv
    let folded: Float32Array = new Float32Array();
    const { value, grads } = tf.variableGrads(() => {
      // training: BN folded into the conv
      const y = backboneForward(p, cfg, x);
      folded = y.dataSync() as Float32Array;
      return tf.sum(y) as tf.Scalar;
    }, [...p.trainable().values()]);
    tf.dispose([value, ...Object.values(grads), x]);
    const scale = Math.max(...ref.v.map(Math.abs));
    for (const [label, got] of [
      ['unfolded', eval_],
      ['folded', folded],
    ] as const) {
      assert.equal(got.length, ref.v.length, `${label}: size`);
      const err = Math.max(...ref.v.map((r, i) => Math.abs(r - got[i])));
      assert.ok(err <= 1e-4 * scale, `${label}: max |diff| ${err} vs scale ${scale}`);
    }
    p.dispose();
  });
}

test('max-pool 3×3/2 pad 1: padding never wins (all-negative input), wasm and cpu', async () => {
  const rng = new Rng(7);
  for (const [H, W] of [
    [9, 7],
    [8, 10],
  ]) {
    const v = Float64Array.from(rng.normals(H * W * 2), (a) => -1 - Math.abs(a));
    const ref: Image = maxPoolRef({ h: H, w: W, c: 2, v });
    for (const backend of ['wasm', 'cpu'] as const) {
      await initEngine({ backend, log: null });
      const got = tf.tidy(() => tf.maxPool(tf.tensor4d(Float32Array.from(v), [1, H, W, 2]), 3, 2, 1)).dataSync();
      assert.deepEqual([...got], [...Float32Array.from(ref.v)], `${backend} ${H}×${W}`);
      assert.ok(
        [...got].every((a) => a < 0),
        'no zero from padding',
      );
    }
  }
  await initEngine({ backend: 'wasm', log: null });
});

test('forward + backward leaks no tensors', () => {
  const cfg: BackboneConfig = { depth: 50, width: 4, numStages: 4, trainableFrom: 'layer2' };
  const p = new ParamStore(backboneSpecs(cfg)).initAll(new Rng(3));
  const x = tf.randomNormal([1, 64, 48, 3]) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  for (let i = 0; i < 2; i++) {
    const { value, grads } = tf.variableGrads(
      () => tf.mean(backboneForward(p, cfg, x)) as tf.Scalar,
      [...p.trainable().values()],
    );
    assert.equal(Object.keys(grads).length, p.trainable().size);
    tf.dispose([value, ...Object.values(grads)]);
    tf.dispose(backboneForward(p, cfg, x));
  }
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  p.dispose();
});

test('the frozen leading layers (conv1, layer1) run off the gradient tape; layer2 on it; gradients still reach every trainable conv', () => {
  const cfg: BackboneConfig = { depth: 50, width: 4, numStages: 4, trainableFrom: 'layer2' };
  const p = new ParamStore(backboneSpecs(cfg)).initAll(new Rng(5));
  const x = tf.randomNormal([1, 40, 36, 3]) as tf.Tensor4D;
  const byId = new Map([...p.names()].map((n) => [p.get(n).dataId, n.slice(P.length)]));
  const taped = new Set<string>();
  const { value, grads } = tf.variableGrads(() => {
    const y = backboneForward(p, cfg, x);
    const tape = (tf.engine().state as unknown as { activeTape: Array<{ inputs: tf.NamedTensorMap }> }).activeTape;
    for (const node of tape)
      for (const t of Object.values(node.inputs)) {
        const name = byId.get(t.dataId);
        if (name) taped.add(name);
      }
    return tf.sum(y) as tf.Scalar;
  }, [...p.trainable().values()]);
  assert.ok(taped.size > 0, 'the tape saw backbone weights');
  assert.deepEqual(
    [...taped].filter((n) => /^(conv1|bn1|layer1)\./.test(n)),
    [],
    'no kernel of conv1 or layer1 on the tape',
  );
  assert.ok(taped.has('layer2.0.conv1.weight'), 'layer2 on the tape');
  assert.equal(Object.keys(grads).length, p.trainable().size);
  for (const g of Object.values(grads)) assert.ok(tf.max(tf.abs(g)).dataSync()[0] > 0, 'a non-zero gradient');
  tf.dispose([value, ...Object.values(grads), x]);
  p.dispose();
});
