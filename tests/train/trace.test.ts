import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { TraceRecorder, TID } from '../../lib/train/trace.js';
import { initEngine } from '../../lib/engine/backend.js';

test('trace is valid trace-event JSON with phases, tfjs kernels and counters', async () => {
  await initEngine({ backend: 'cpu', log: null });
  const tr = new TraceRecorder('test');
  const x = tf.ones([8, 8]);
  let start = 0;
  await tr.span('forward', 'phase', async () => {
    start = performance.timeOrigin * 1000 + performance.now() * 1000;
    const info = await tf.profile(() => tf.tidy(() => tf.sum(tf.matMul(x, x))));
    tr.kernels(info.kernels as never, start);
    (info.result as tf.Tensor).dispose();
  });
  tr.counter('memory', { numTensors: tf.memory().numTensors });
  x.dispose();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-trace-'));
  const file = tr.writeUnder(path.join(dir, 'tb'), new Date('2026-01-02T03:04:05Z'));
  assert.equal(path.relative(dir, file), path.join('tb', 'plugins', 'profile', '20260102_030405', `${os.hostname()}.pt.trace.json`));
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.ok(Array.isArray(json.traceEvents));
  for (const e of json.traceEvents) {
    assert.equal(typeof e.name, 'string');
    assert.ok(['X', 'C', 'M', 'i'].includes(e.ph));
    assert.ok(Number.isFinite(e.ts) && Number.isInteger(e.pid) && Number.isInteger(e.tid));
    if (e.ph === 'X') assert.ok(e.dur >= 0);
  }
  const kernels = json.traceEvents.filter((e: { tid: number; ph: string }) => e.tid === TID.kernels && e.ph === 'X').map((e: { name: string }) => e.name);
  assert.ok(kernels.includes('BatchMatMul') && kernels.includes('Sum'), kernels.join());
  const phase = json.traceEvents.find((e: { name: string }) => e.name === 'forward');
  for (const k of json.traceEvents.filter((e: { tid: number; ph: string }) => e.tid === TID.kernels && e.ph === 'X')) assert.ok(k.ts >= phase.ts);
  assert.equal(tr.totals(TID.phases).forward.count, 1);
});
