/**
 * The transformer + heads against an independent NumPy implementation of DETR's forward written from
 * facebookresearch/detr `models/position_encoding.py` and `models/transformer.py` (PyTorch layouts, NCHW features).
 * Skipped when python3 + numpy are absent.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import { detrFromFeatures } from '../../lib/detr/detr_forward.js';
import { EVAL } from '../../lib/detr/nn.js';
import { checkpointTensors } from '../../lib/detr/weights.js';
import { writeSafetensors } from '../../lib/io/safetensors.js';
import { TINY, tinyStore, standInFeatures } from './fixtures.js';

before(async () => {
  await initEngine({ backend: 'cpu', log: null });
});

const PY = String.raw`
import json, struct, sys, numpy as np
def load(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8+n]); d = b[8+n:]
    return {k: np.frombuffer(d[v['data_offsets'][0]:v['data_offsets'][1]], np.float32).reshape(v['shape']).astype(np.float64) for k, v in h.items() if k != '__metadata__'}
W = load(sys.argv[1]); X = load(sys.argv[2]); cfg = json.loads(sys.argv[3])
D, NH = cfg['d'], cfg['heads']
lin = lambda x, p: x @ W[p + '.weight'].T + W[p + '.bias']
def ln(x, p):
    m = x.mean(-1, keepdims=True); v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-5) * W[p + '.weight'] + W[p + '.bias']
def attn(p, q, k, v, valid):
    B, Tq, _ = q.shape; Tk = k.shape[1]; dh = D // NH
    Q = (lin(q, p + '.q_proj') * dh ** -0.5).reshape(B, Tq, NH, dh).transpose(0, 2, 1, 3)
    K = lin(k, p + '.k_proj').reshape(B, Tk, NH, dh).transpose(0, 2, 1, 3)
    V = lin(v, p + '.v_proj').reshape(B, Tk, NH, dh).transpose(0, 2, 1, 3)
    s = Q @ K.transpose(0, 1, 3, 2)
    if valid is not None: s = np.where(valid[:, None, None, :], s, -np.inf)
    s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True)
    return lin((s @ V).transpose(0, 2, 1, 3).reshape(B, Tq, D), p + '.out_proj')
feat, mask = X['features'], X['mask'] > 0.5                # [B,C,h,w], [B,h,w]
B, C, h, w = feat.shape
src = np.einsum('bchw,dc->bhwd', feat, W['model.input_projection.weight'][:, :, 0, 0]) + W['model.input_projection.bias']
ye = np.cumsum(mask, 1).astype(np.float64); xe = np.cumsum(mask, 2).astype(np.float64)
ye = ye / (ye[:, -1:, :] + 1e-6) * 2 * np.pi; xe = xe / (xe[:, :, -1:] + 1e-6) * 2 * np.pi
n = D // 2; dim_t = 10000 ** (2 * (np.arange(n) // 2) / n)
def enc(e):
    a = e[..., None] / dim_t
    return np.stack([np.sin(a[..., 0::2]), np.cos(a[..., 1::2])], axis=4).reshape(B, h, w, n)
pos = np.concatenate([enc(ye), enc(xe)], -1).reshape(B, h * w, D)
x = src.reshape(B, h * w, D); valid = mask.reshape(B, h * w)
for i in range(cfg['enc']):
    p = 'model.encoder.layers.%d' % i
    x = ln(x + attn(p + '.self_attn', x + pos, x + pos, x, valid), p + '.self_attn_layer_norm')
    x = ln(x + lin(np.maximum(lin(x, p + '.fc1'), 0), p + '.fc2'), p + '.final_layer_norm')
qpos = np.broadcast_to(W['model.query_position_embeddings.weight'], (B,) + W['model.query_position_embeddings.weight'].shape)
t = np.zeros_like(qpos); outs = []
for i in range(cfg['dec']):
    p = 'model.decoder.layers.%d' % i
    t = ln(t + attn(p + '.self_attn', t + qpos, t + qpos, t, None), p + '.self_attn_layer_norm')
    t = ln(t + attn(p + '.encoder_attn', t + qpos, x + pos, x, valid), p + '.encoder_attn_layer_norm')
    t = ln(t + lin(np.maximum(lin(t, p + '.fc1'), 0), p + '.fc2'), p + '.final_layer_norm')
    outs.append(ln(t, 'model.decoder.layernorm'))
hs = np.stack(outs)
logits = lin(hs, 'class_labels_classifier')
bx = lin(np.maximum(lin(np.maximum(lin(hs, 'bbox_predictor.layers.0'), 0), 'bbox_predictor.layers.1'), 0), 'bbox_predictor.layers.2')
print(json.dumps({'logits': logits.tolist(), 'boxes': (1 / (1 + np.exp(-bx))).tolist()}))
`;

test('transformer + heads equal an independent NumPy DETR forward (padding included)', (t) => {
  if (spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status !== 0) {
    t.skip('python3 with numpy not available');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-ref-'));
  const p = tinyStore(TINY, 3);
  const { features, mask } = standInFeatures(
    2,
    3,
    5,
    [
      [3, 5],
      [2, 3],
    ],
    4,
  );
  writeSafetensors(path.join(dir, 'w.safetensors'), checkpointTensors(p));
  const nchw = tf.tidy(() => tf.transpose(features, [0, 3, 1, 2]));
  writeSafetensors(path.join(dir, 'x.safetensors'), {
    features: { dtype: 'F32', shape: nchw.shape, data: nchw.dataSync() as Float32Array },
    mask: { dtype: 'F32', shape: mask.shape, data: mask.dataSync() as Float32Array },
  });
  const cfg = { d: TINY.dModel, heads: TINY.nHeads, enc: TINY.encoderLayers, dec: TINY.decoderLayers };
  const r = spawnSync(
    'python3',
    ['-c', PY, path.join(dir, 'w.safetensors'), path.join(dir, 'x.safetensors'), JSON.stringify(cfg)],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const want = JSON.parse(r.stdout) as { logits: number[][][][]; boxes: number[][][][] };
  const out = detrFromFeatures(p, TINY, features, mask, EVAL);
  const L = TINY.decoderLayers;
  const got = tf.tidy(() => ({
    logits: tf.concat([out.auxLogits, tf.expandDims(out.logits, 0)]).arraySync() as number[][][][],
    boxes: tf.concat([out.auxPredBoxes, tf.expandDims(out.predBoxes, 0)]).arraySync() as number[][][][],
  }));
  let maxDiff = 0;
  for (const k of ['logits', 'boxes'] as const) {
    want[k].flat(3).forEach((v, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - got[k].flat(3)[i]));
    });
  }
  t.diagnostic(`max abs difference tfjs (float32) vs numpy (float64): ${maxDiff.toExponential(2)}`);
  assert.equal(want.logits.length, L);
  assert.ok(maxDiff < 1e-4, `max |tfjs − numpy| = ${maxDiff}`);
  tf.dispose([out, features, mask, nchw]);
  p.dispose();
  fs.rmSync(dir, { recursive: true });
});
