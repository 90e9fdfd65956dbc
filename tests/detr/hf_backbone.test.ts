import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackboneConfig, backboneSpecs, BACKBONE_PREFIX } from '../../lib/detr/backbone.js';
import {
  hfBackboneConfig,
  backboneFromHf,
  toHfResnetName,
  fromHfResnetName,
  timmName,
  withDetrlabBackboneNames,
} from '../../lib/detr/hf_backbone.js';
import { configFromShapes } from '../../lib/detr/hf_config.js';
import { detrSpecs } from '../../lib/detr/hf_names.js';
import { resolveDetr } from '../../lib/detr/config.js';
import { isUserError } from '../../lib/params/user_error.js';

const bb = (depth: BackboneConfig['depth'], width: number, numStages: 3 | 4): BackboneConfig => ({
  depth,
  width,
  numStages,
  trainableFrom: 'all',
});

test('standard widths go through timm by name, others through transformers ResNet (hand-written expectations)', () => {
  assert.deepEqual(hfBackboneConfig(bb(50, 64, 4)), {
    model_type: 'timm_backbone',
    backbone: 'resnet50',
    num_channels: 3,
    features_only: true,
    out_indices: [1, 2, 3, 4],
    output_stride: null,
    freeze_batch_norm_2d: false,
  });
  assert.deepEqual(hfBackboneConfig(bb(18, 64, 3)).out_indices, [1, 2, 3]);
  const half = hfBackboneConfig(bb(18, 32, 3));
  assert.deepEqual(
    [half.model_type, half.embedding_size, half.hidden_sizes, half.depths, half.layer_type, half.out_features],
    ['resnet', 32, [32, 64, 128], [2, 2, 2], 'basic', ['stage3']],
  );
  const r50 = hfBackboneConfig(bb(50, 16, 4));
  assert.deepEqual([r50.hidden_sizes, r50.depths, r50.layer_type], [[64, 128, 256, 512], [3, 4, 6, 3], 'bottleneck']);
  assert.equal(timmName(bb(101, 64, 4)), 'resnet101');
  assert.equal(timmName(bb(34, 48, 4)), undefined);
});

test('backbone_config → detrlab backbone inverts the writer for every depth, width and stage count', () => {
  for (const depth of [18, 34, 50, 101] as const)
    for (const width of [8, 32, 64])
      for (const n of [3, 4] as const) {
        const got = backboneFromHf(JSON.parse(JSON.stringify(hfBackboneConfig(bb(depth, width, n)))), 'x');
        assert.deepEqual(got, { depth, width, numStages: n }, `${depth}/${width}/${n}`);
      }
});

test('backbone_configs detrlab cannot build are refused with a one-line reason', () => {
  const err = (re: RegExp) => (e: unknown) => isUserError(e) && re.test((e as Error).message);
  assert.throws(
    () => backboneFromHf({ model_type: 'timm_backbone', backbone: 'resnet50', output_stride: 16 }, 'c'),
    err(/dilation/),
  );
  assert.throws(
    () => backboneFromHf({ model_type: 'timm_backbone', backbone: 'efficientnet_b0' }, 'c'),
    err(/not a timm ResNet/),
  );
  assert.throws(
    () => backboneFromHf({ ...hfBackboneConfig(bb(18, 32, 3)), hidden_sizes: [32, 64, 96] }, 'c'),
    err(/not a ResNet-18\/34\/50\/101 layout/),
  );
  assert.throws(
    () => backboneFromHf({ ...hfBackboneConfig(bb(50, 16, 4)), downsample_in_bottleneck: true }, 'c'),
    err(/not a ResNet/),
  );
  assert.throws(
    () => backboneFromHf({ ...hfBackboneConfig(bb(18, 32, 4)), out_features: ['stage3'] }, 'c'),
    err(/last stage/),
  );
  assert.throws(() => backboneFromHf({ model_type: 'convnext' }, 'c'), err(/not supported/));
});

test('tensor names: detrlab ↔ transformers ResNetBackbone is a bijection over every backbone tensor', () => {
  const p = BACKBONE_PREFIX;
  assert.equal(toHfResnetName(`${p}conv1.weight`), `${p}embedder.embedder.convolution.weight`);
  assert.equal(
    toHfResnetName(`${p}layer2.0.bn3.running_var`),
    `${p}encoder.stages.1.layers.0.layer.2.normalization.running_var`,
  );
  assert.equal(
    toHfResnetName(`${p}layer3.0.downsample.0.weight`),
    `${p}encoder.stages.2.layers.0.shortcut.convolution.weight`,
  );
  assert.equal(toHfResnetName('model.input_projection.weight'), 'model.input_projection.weight');
  for (const cfg of [bb(18, 32, 3), bb(50, 16, 4), bb(101, 8, 4)]) {
    const names = backboneSpecs(cfg).map((s) => s.name);
    const hf = names.map(toHfResnetName);
    assert.equal(new Set(hf).size, names.length);
    assert.ok(
      hf.every((n) => /\.(embedder|encoder)\./.test(n)),
      'every backbone tensor renamed',
    );
    assert.deepEqual(hf.map(fromHfResnetName), names);
  }
});

test('configFromShapes reads a checkpoint under transformers ResNet names', () => {
  const cfg = resolveDetr({ numClasses: 4, backbone: { depth: 34, width: 16, numStages: 3 } }, 'demo');
  const shapes = new Map(detrSpecs(cfg).map((s) => [toHfResnetName(s.name), s.hfShape]));
  assert.notDeepEqual([...shapes.keys()], [...withDetrlabBackboneNames(shapes).keys()]);
  const got = configFromShapes(shapes, cfg.nHeads);
  assert.deepEqual(got.backbone, { ...cfg.backbone, trainableFrom: got.backbone.trainableFrom });
  assert.equal(got.numClasses, 4);
});
