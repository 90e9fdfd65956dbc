import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import { Rng } from '../../lib/engine/rng.js';
import { resolveDetr } from '../../lib/detr/config.js';
import { DetrModel } from '../../lib/detr/model.js';
import { checkpointTensors } from '../../lib/detr/weights.js';
import { toHfConfig } from '../../lib/detr/hf_config.js';
import { hubUrl, fetchHubWeights } from '../../lib/detr/hub.js';
import { loadDetr } from '../../lib/detr/pretrained.js';
import { encodeSafetensors } from '../../lib/io/safetensors.js';
import { isUserError } from '../../lib/params/user_error.js';

const cfg = resolveDetr(
  {
    numClasses: 3,
    dModel: 16,
    nHeads: 2,
    encoderLayers: 1,
    decoderLayers: 1,
    ffnDim: 16,
    numQueries: 4,
    backbone: { width: 4 },
  },
  'demo',
);
let server: http.Server,
  endpoint = '',
  weightsBytes: Uint8Array,
  configJson = '';
const requests: Array<{ url: string; range?: string }> = [];

before(async () => {
  await initEngine({ backend: 'cpu', log: null });
  const m = DetrModel.create(cfg, new Rng(0));
  weightsBytes = encodeSafetensors(checkpointTensors(m.params), { format: 'pt' });
  configJson = JSON.stringify(toHfConfig(cfg, { names: ['a', 'b', 'c'] }));
  m.dispose();
  server = http.createServer((req, res) => {
    requests.push({ url: req.url!, range: req.headers.range });
    const body =
      req.url === '/acme/tiny-detr/resolve/main/model.safetensors'
        ? Buffer.from(weightsBytes)
        : req.url === '/acme/tiny-detr/resolve/main/config.json'
          ? Buffer.from(configJson)
          : undefined;
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    const r = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (r) {
      const start = Number(r[1]);
      res
        .writeHead(206, {
          'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
          'content-length': body.length - start,
        })
        .end(body.subarray(start));
    } else {
      res.writeHead(200, { 'content-length': body.length }).end(body);
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'hub-'));

test('hub URL: endpoint param > HF_ENDPOINT > huggingface.co; repo ids are checked', () => {
  const saved = process.env.HF_ENDPOINT;
  delete process.env.HF_ENDPOINT;
  assert.equal(
    hubUrl('facebook/detr-resnet-50', 'model.safetensors'),
    'https://huggingface.co/facebook/detr-resnet-50/resolve/main/model.safetensors',
  );
  process.env.HF_ENDPOINT = 'http://mirror.local/';
  assert.equal(hubUrl('a/b', 'config.json'), 'http://mirror.local/a/b/resolve/main/config.json');
  assert.equal(hubUrl('a/b', 'config.json', { endpoint: 'http://x' }), 'http://x/a/b/resolve/main/config.json');
  if (saved === undefined) delete process.env.HF_ENDPOINT;
  else process.env.HF_ENDPOINT = saved;
  for (const bad of ['detr', '../etc/passwd', 'a/b/c', 'a/..']) assert.throws(() => hubUrl(bad, 'x'), isUserError, bad);
});

test('download into the cache, reuse it, and load the model by repo name', async () => {
  const dir = tmp();
  const first = await fetchHubWeights('acme/tiny-detr', { endpoint, cacheDir: dir, quiet: true });
  assert.equal(first.downloaded, true);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'model.safetensors')), Buffer.from(weightsBytes));
  const n = requests.length;
  const again = await fetchHubWeights('acme/tiny-detr', { endpoint, cacheDir: dir, quiet: true });
  assert.equal(again.downloaded, false);
  assert.equal(requests.length, n, 'cached files are not fetched again');
  const { model, report, labels } = await loadDetr({
    modelName: 'acme/tiny-detr',
    endpoint,
    cacheDir: dir,
    quiet: true,
    rng: new Rng(1),
  });
  assert.deepEqual(model.cfg, cfg);
  assert.deepEqual(labels?.names, ['a', 'b', 'c']);
  assert.deepEqual([report.missing, report.unexpected, report.reinitialised], [[], [], []]);
  const out = model.forward(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D, tf.ones([1, 32, 32]) as tf.Tensor3D);
  assert.deepEqual(out.logits.shape, [1, 4, 4]);
  tf.dispose(out);
  model.dispose();
  fs.rmSync(dir, { recursive: true });
});

test('an interrupted download resumes with an HTTP Range request', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'model.safetensors.part'), weightsBytes.subarray(0, 1000));
  requests.length = 0;
  const r = await fetchHubWeights('acme/tiny-detr', { endpoint, cacheDir: dir, quiet: true });
  assert.equal(r.resumed, true);
  assert.equal(requests.find((q) => q.url.endsWith('model.safetensors'))?.range, 'bytes=1000-');
  assert.deepEqual(fs.readFileSync(r.weights), Buffer.from(weightsBytes));
  fs.rmSync(dir, { recursive: true });
});

test('a local --weights file, a missing file, an unknown repo, and a K override', async () => {
  const dir = tmp();
  const file = path.join(dir, 'w.safetensors');
  fs.writeFileSync(file, weightsBytes);
  const { model, report } = await loadDetr({ weights: file, nHeads: 2, numClasses: 5, rng: new Rng(1) });
  assert.equal(model.cfg.numClasses, 5);
  assert.deepEqual(report.reinitialised, ['class_labels_classifier.weight', 'class_labels_classifier.bias']);
  model.dispose();
  await assert.rejects(
    loadDetr({ weights: path.join(dir, 'nope.safetensors'), rng: new Rng(1) }),
    (e: Error) => isUserError(e) && /does not exist/.test(e.message),
  );
  await assert.rejects(
    loadDetr({ modelName: 'acme/missing', endpoint, cacheDir: dir, quiet: true, rng: new Rng(1) }),
    (e: Error) => isUserError(e) && /HTTP 404/.test(e.message),
  );
  await assert.rejects(loadDetr({ rng: new Rng(1) }), isUserError);
  fs.rmSync(dir, { recursive: true });
});
