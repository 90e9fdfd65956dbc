import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { TraceRecorder, TID, traceWindow } from '../../lib/train/trace.js';
import { initEngine } from '../../lib/engine/backend.js';
import { assertNested, Slice } from './trace_nesting.js';

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
  assert.equal(
    path.relative(dir, file),
    path.join('tb', 'plugins', 'profile', '20260102_030405', `${os.hostname()}.pt.trace.json`),
  );
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.ok(Array.isArray(json.traceEvents));
  for (const e of json.traceEvents) {
    assert.equal(typeof e.name, 'string');
    assert.ok(['X', 'C', 'M', 'i'].includes(e.ph));
    assert.ok(Number.isFinite(e.ts) && Number.isInteger(e.pid) && Number.isInteger(e.tid));
    if (e.ph === 'X') assert.ok(e.dur >= 0);
  }
  const kernels = json.traceEvents
    .filter((e: { tid: number; ph: string }) => e.tid === TID.kernels && e.ph === 'X')
    .map((e: { name: string }) => e.name);
  assert.ok(kernels.includes('BatchMatMul') && kernels.includes('Sum'), kernels.join());
  const phase = json.traceEvents.find((e: { name: string }) => e.name === 'forward');
  for (const k of json.traceEvents.filter((e: { tid: number; ph: string }) => e.tid === TID.kernels && e.ph === 'X'))
    assert.ok(k.ts >= phase.ts);
  assert.equal(tr.totals(TID.phases).forward.count, 1);
});

test('assertNested catches a partial overlap (the check can fail)', () => {
  assert.throws(
    () =>
      assertNested([
        { name: 'a', ph: 'X', ts: 0, dur: 10, tid: 1 },
        { name: 'b', ph: 'X', ts: 5, dur: 10, tid: 1 },
      ]),
    /partially overlaps/,
  );
  assertNested([
    { name: 'a', ph: 'X', ts: 0, dur: 10, tid: 1 },
    { name: 'b', ph: 'X', ts: 5, dur: 10, tid: 2 },
  ]);
});

test('training steps nest properly even when measured phases overrun the step (threads, rounding)', () => {
  const tr = new TraceRecorder('test');
  const ms = 1000;
  // in-process: phases summing to more than the step's wall time
  tr.trainStep(1, 0, 100 * ms, 7, {
    timings: { forwardMs: 70, matchMs: 20, backwardMs: 60, startUs: 2 * ms },
    applyMs: 10,
    kernels: [
      { name: 'Conv2D', kernelTimeMs: 80 },
      { name: 'MatMul', kernelTimeMs: 50 },
    ],
  });
  // two workers, each starting late and running past the gradient window; their max summed overruns the step
  const w = (start: number, f: number, b: number) => ({ forwardMs: f, matchMs: 5, backwardMs: b, startUs: start * ms });
  tr.trainStep(2, 105 * ms, 200 * ms, 3, {
    timings: { forwardMs: 60, matchMs: 5, backwardMs: 60 },
    applyMs: 15,
    workerTimings: [w(106, 50, 40), w(110, 60, 60)],
    kernels: [{ name: 'Conv2D', kernelTimeMs: 30 }],
  });
  const ev = tr.events as Slice[];
  assertNested(ev);
  const on = (tid: number) => ev.filter((e) => e.ph === 'X' && e.tid === tid).map((e) => e.name);
  assert.deepEqual(on(TID.phases), [
    'step 1',
    'gradients',
    'forward',
    'matching + loss',
    'backward',
    'clip + AdamW',
    'step 2',
    'gradients',
    'clip + AdamW',
  ]);
  assert.deepEqual(on(TID.worker0), ['gradients (worker 0)', 'forward', 'matching + loss', 'backward']);
  assert.deepEqual(on(TID.worker0 + 1), ['gradients (worker 1)', 'forward', 'matching + loss', 'backward']);
  assert.deepEqual(on(TID.data), ['data wait', 'data wait']);
  // the worker tracks are named; the data wait lies before its step
  assert.ok(
    ev.some(
      (e) =>
        e.ph === 'M' &&
        e.tid === TID.worker0 + 1 &&
        (e as unknown as { args: { name: string } }).args.name === 'worker 1',
    ),
  );
  const wait2 = ev.filter((e) => e.name === 'data wait')[1];
  assert.deepEqual([wait2.ts, wait2.ts + wait2.dur], [102 * ms, 105 * ms]);
  // worker 1's slices end where the gradients end: at the step end minus the optimizer time
  const g1 = ev.find((e) => e.name === 'gradients (worker 1)')!;
  assert.deepEqual([g1.ts, g1.ts + g1.dur], [110 * ms, 185 * ms]);
});

test('the trace window: traceStart/traceSteps, moved earlier in a run too short to reach it, never before a resume', () => {
  assert.deepEqual(traceWindow(2, 5, 100), { from: 2, to: 7 });
  assert.deepEqual(traceWindow(2, 5, 3), { from: 0, to: 5 }); // 3 steps: all of them traced
  assert.deepEqual(traceWindow(2, 5, 6), { from: 1, to: 6 });
  assert.deepEqual(traceWindow(2, 5, 100, 40), { from: 40, to: 45 });
});
