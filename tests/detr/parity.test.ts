import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import { Rng } from '../../lib/engine/rng.js';
import { resolveDetr } from '../../lib/detr/config.js';
import { DetrModel } from '../../lib/detr/model.js';
import { saveCheckpoint } from '../../lib/detr/weights.js';
import { setCriterion } from '../../lib/detr/criterion.js';
import { variableGradsAsync } from '../../lib/engine/async_grads.js';
import { main } from '../../lib/cli/main.js';
import { readSafetensors, toFloat32, toFloat64, writeSafetensors } from '../../lib/io/safetensors.js';

const cfg = resolveDetr(
  {
    numClasses: 3,
    dModel: 16,
    nHeads: 2,
    encoderLayers: 1,
    decoderLayers: 2,
    ffnDim: 16,
    numQueries: 5,
    backbone: { width: 4, trainableFrom: 'layer2' },
  },
  'demo',
);
const targetsJson = [
  {
    class_labels: [2, 0],
    boxes: [
      [0.3, 0.4, 0.2, 0.3],
      [0.6, 0.5, 0.4, 0.4],
    ],
  },
  { class_labels: [], boxes: [] },
];
const HEAD = 'class_labels_classifier.weight';
const CONV = 'model.backbone.conv_encoder.model.layer2.0.conv1.weight';
let dir = '',
  model: DetrModel,
  pixelsNchw: Float32Array;
const B = 2,
  H = 40,
  W = 48;

before(async () => {
  await initEngine({ backend: 'cpu', log: null });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parity-'));
  model = DetrModel.create(cfg, new Rng(0));
  saveCheckpoint(path.join(dir, 'ckpt'), model.params, cfg, { names: ['a', 'b', 'c'] });
  pixelsNchw = new Rng(1).normals(B * 3 * H * W);
  const mask = new Uint8Array(B * H * W).fill(1);
  for (let y = 0; y < H; y++) for (let x = 32; x < W; x++) mask[H * W + y * W + x] = 0; // image 1: 40×32 real
  writeSafetensors(path.join(dir, 'in.safetensors'), {
    pixel_values: { dtype: 'F32', shape: [B, 3, H, W], data: pixelsNchw },
    pixel_mask: { dtype: 'I64', shape: [B, H, W], data: Array.from(mask) },
  });
  fs.writeFileSync(path.join(dir, 't.json'), JSON.stringify(targetsJson));
});

const quietly = async (argv: string[]): Promise<number> => {
  const [out, err] = [process.stdout.write, process.stderr.write];
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return await main(argv);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
};

test('parity detr: outputs, losses, matches and PyTorch-layout gradients equal the library computed directly', async () => {
  const code = await quietly([
    'parity',
    'detr',
    '--weights',
    path.join(dir, 'ckpt', 'model.safetensors'),
    '--inputs',
    path.join(dir, 'in.safetensors'),
    '--out',
    path.join(dir, 'out.safetensors'),
    '--targets',
    path.join(dir, 't.json'),
    '--grads',
    `${HEAD},${CONV}`,
    '--backend',
    'cpu',
  ]);
  assert.equal(code, 0);
  const out = readSafetensors(path.join(dir, 'out.safetensors')).tensors;
  assert.deepEqual(
    [...out.keys()].sort(),
    [
      'aux_logits',
      'aux_pred_boxes',
      `grad.${CONV}`,
      `grad.${HEAD}`,
      'logits',
      'loss_bbox',
      'loss_bbox_0',
      'loss_ce',
      'loss_ce_0',
      'loss_giou',
      'loss_giou_0',
      'loss_total',
      'match_0_pred',
      'match_0_tgt',
      'match_1_pred',
      'match_1_tgt',
      'pred_boxes',
    ].sort(),
  );
  assert.deepEqual(out.get('aux_logits')!.shape, [1, B, 5, 4]);
  assert.deepEqual(out.get('loss_total')!.shape, []);
  assert.equal(out.get('match_0_pred')!.dtype, 'I64');
  assert.deepEqual(out.get(`grad.${HEAD}`)!.shape, [4, 16]); // PyTorch [out, in]
  assert.deepEqual(out.get(`grad.${CONV}`)!.shape, [8, 4, 3, 3]); // [out, in, kh, kw]
  // the same computation in-process
  const pixels = tf.tidy(() => tf.transpose(tf.tensor4d(pixelsNchw, [B, 3, H, W]), [0, 2, 3, 1]) as tf.Tensor4D);
  const mask = tf.tensor3d(toFloat32(readSafetensors(path.join(dir, 'in.safetensors')).tensors.get('pixel_mask')!), [
    B,
    H,
    W,
  ]);
  const targets = targetsJson.map((t) => ({
    labels: t.class_labels,
    boxesCxcywh: t.boxes as [number, number, number, number][],
  }));
  const vars = [model.params.get(HEAD), model.params.get(CONV)];
  let matches: number[][] = [];
  const { value, grads } = await variableGradsAsync(async () => {
    const o = model.forward(pixels, mask);
    assert.deepEqual(Array.from(toFloat32(out.get('logits')!)), Array.from(o.logits.dataSync()));
    const l = await setCriterion(o, targets, { ...cfg, auxLoss: true });
    matches = [l.matches[0].pred, l.matches[0].tgt];
    return l.total;
  }, vars);
  assert.equal(toFloat32(out.get('loss_total')!)[0], value.dataSync()[0]);
  assert.deepEqual(
    [Array.from(toFloat64(out.get('match_0_pred')!)), Array.from(toFloat64(out.get('match_0_tgt')!))],
    matches,
  );
  const gHead = tf.tidy(() => Array.from(tf.transpose(grads[vars[0].name]).dataSync()));
  assert.deepEqual(Array.from(toFloat32(out.get(`grad.${HEAD}`)!)), gHead);
  const gConv = tf.tidy(() => Array.from(tf.transpose(grads[vars[1].name], [3, 2, 0, 1]).dataSync()));
  assert.deepEqual(Array.from(toFloat32(out.get(`grad.${CONV}`)!)), gConv);
  tf.dispose([value, grads, pixels, mask]);
});

test('parity detr: finite differences agree with grad.<bias>', async () => {
  const bias = 'class_labels_classifier.bias';
  const run = async (file: string, extra: string[]) => {
    assert.equal(
      await quietly([
        'parity',
        'detr',
        '--weights',
        file,
        '--inputs',
        path.join(dir, 'in.safetensors'),
        '--out',
        path.join(dir, 'fd.safetensors'),
        '--targets',
        path.join(dir, 't.json'),
        '--backend',
        'cpu',
        ...extra,
      ]),
      0,
    );
    return readSafetensors(path.join(dir, 'fd.safetensors')).tensors;
  };
  const g = toFloat32((await run(path.join(dir, 'ckpt', 'model.safetensors'), ['--grads', bias])).get(`grad.${bias}`)!);
  const eps = 1e-2;
  const shifted = (k: number, d: number) => {
    const sub = path.join(dir, `fd${k}${d > 0 ? 'p' : 'm'}`);
    const b = model.params.get(bias);
    const orig = b.clone();
    b.assign(tf.tidy(() => tf.add(orig, tf.mul(tf.reshape(tf.oneHot([k], 4), [4]), d))));
    saveCheckpoint(sub, model.params, cfg, { names: ['a', 'b', 'c'] });
    b.assign(orig);
    orig.dispose();
    return path.join(sub, 'model.safetensors');
  };
  for (const k of [0, 3]) {
    const up = toFloat32((await run(shifted(k, eps), [])).get('loss_total')!)[0];
    const down = toFloat32((await run(shifted(k, -eps), [])).get('loss_total')!)[0];
    const fd = (up - down) / (2 * eps);
    assert.ok(
      Math.abs(fd - g[k]) < 2e-3 + 0.02 * Math.abs(g[k]),
      `bias[${k}]: finite difference ${fd} vs grad ${g[k]}`,
    );
  }
});

test('parity detr: user errors exit 2', async () => {
  assert.equal(
    await quietly([
      'parity',
      'detr',
      '--weights',
      path.join(dir, 'ckpt', 'model.safetensors'),
      '--out',
      path.join(dir, 'x.safetensors'),
      '--backend',
      'cpu',
    ]),
    2,
  );
  assert.equal(
    await quietly([
      'parity',
      'detr',
      '--weights',
      path.join(dir, 'ckpt', 'model.safetensors'),
      '--inputs',
      path.join(dir, 'in.safetensors'),
      '--out',
      path.join(dir, 'x.safetensors'),
      '--grads',
      HEAD,
      '--backend',
      'cpu',
    ]),
    2,
  );
  assert.equal(
    await quietly([
      'parity',
      'detr',
      '--weights',
      path.join(dir, 'ckpt', 'model.safetensors'),
      '--inputs',
      path.join(dir, 'in.safetensors'),
      '--out',
      path.join(dir, 'x.safetensors'),
      '--targets',
      path.join(dir, 't.json'),
      '--grads',
      'model.backbone.conv_encoder.model.conv1.weight',
      '--backend',
      'cpu',
    ]),
    2,
  ); // frozen stem
});

test('parity assignment: scipy-like results, refusals as {error}, string entries', async () => {
  const cases = [
    {
      cost: [
        [4, 1, 3],
        [2, 0, 5],
        [3, 2, 2],
      ],
    },
    {
      cost: [
        [1, 'inf'],
        ['inf', 'inf'],
      ],
    },
    { cost: [[1, 'nan']] },
    { cost: [['-inf', 0]] },
    {
      cost: [
        ['inf', 2],
        [3, 'Infinity'],
      ],
    },
    {
      cost: [
        [5, 1],
        [1, 5],
        [9, 9],
      ],
    },
    { cost: [] },
  ];
  fs.writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(cases));
  assert.equal(
    await quietly(['parity', 'assignment', '--in', path.join(dir, 'cases.json'), '--out', path.join(dir, 'res.json')]),
    0,
  );
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'res.json'), 'utf8')), [
    { rows: [0, 1, 2], cols: [1, 0, 2], total: 5 },
    { error: 'cost matrix is infeasible' },
    { error: 'matrix contains invalid numeric entries' },
    { error: 'matrix contains invalid numeric entries' },
    { rows: [0, 1], cols: [1, 0], total: 5 },
    { rows: [0, 1], cols: [1, 0], total: 2 },
    { rows: [], cols: [], total: 0 },
  ]);
  fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify([{ cost: [[1, 'x']] }]));
  assert.equal(
    await quietly(['parity', 'assignment', '--in', path.join(dir, 'bad.json'), '--out', path.join(dir, 'res2.json')]),
    2,
  );
});
