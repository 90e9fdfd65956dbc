/**
 * Profiler trace in the Chrome trace-event format (a JSON object with `traceEvents`; opens in Perfetto
 * and chrome://tracing): complete events (`ph: "X"`, µs) for the training phases (data, forward,
 * matching, backward, optimizer) on one track, tfjs kernels from `tf.profile` on another, memory as
 * counter events. Written under `<run>/tb/plugins/profile/<timestamp>/<host>.pt.trace.json`, the place
 * and name PyTorch's `tensorboard_trace_handler` uses.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { writeJsonAtomic } from '../io/atomic.js';

export interface TraceEvent { name: string; cat: string; ph: 'X' | 'C' | 'M' | 'i'; ts: number; dur?: number; pid: number; tid: number; args?: Record<string, unknown>; s?: string }
export interface KernelTiming { name: string; kernelTimeMs: number | { error: string }; inputShapes?: number[][]; outputShapes?: number[][] }

export const TID = { phases: 1, kernels: 2, data: 3 } as const;
const nowUs = () => performance.timeOrigin * 1000 + performance.now() * 1000;

export class TraceRecorder {
  readonly events: TraceEvent[] = [];
  private readonly pid = process.pid;

  constructor(processName = 'detrlab train') {
    this.meta('process_name', 0, { name: processName });
    this.meta('thread_name', TID.phases, { name: 'training phases' });
    this.meta('thread_name', TID.kernels, { name: 'tfjs kernels (tf.profile; laid back to back)' });
    this.meta('thread_name', TID.data, { name: 'data loading' });
  }

  private meta(name: string, tid: number, args: Record<string, unknown>): void {
    this.events.push({ name, cat: '__metadata', ph: 'M', ts: 0, pid: this.pid, tid, args });
  }

  /** Times `fn` as one complete event; works for sync and async functions. */
  async span<T>(name: string, cat: string, fn: () => T | Promise<T>, tid: number = TID.phases, args?: Record<string, unknown>): Promise<T> {
    const ts = nowUs();
    try {
      return await fn();
    } finally {
      this.complete(name, cat, ts, nowUs() - ts, tid, args);
    }
  }

  complete(name: string, cat: string, tsUs: number, durUs: number, tid: number = TID.phases, args?: Record<string, unknown>): void {
    this.events.push({ name, cat, ph: 'X', ts: tsUs, dur: Math.max(0, durUs), pid: this.pid, tid, ...(args ? { args } : {}) });
  }

  /**
   * Kernels measured by `tf.profile` inside a phase that started at `startUs`: tfjs reports each kernel's
   * own time but not when it ran, so they are placed one after another from the phase start.
   */
  kernels(list: KernelTiming[], startUs: number, cat = 'kernel'): void {
    let t = startUs;
    for (const k of list) {
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      this.complete(k.name, cat, t, ms * 1000, TID.kernels, { inputShapes: k.inputShapes, outputShapes: k.outputShapes });
      t += ms * 1000;
    }
  }

  counter(name: string, values: Record<string, number>): void {
    this.events.push({ name, cat: 'memory', ph: 'C', ts: nowUs(), pid: this.pid, tid: 0, args: values });
  }

  /** Per-name totals of complete events (for the bench's time shares). */
  totals(tid?: number): Record<string, { ms: number; count: number }> {
    const out: Record<string, { ms: number; count: number }> = {};
    for (const e of this.events) {
      if (e.ph !== 'X' || (tid !== undefined && e.tid !== tid)) continue;
      const t = (out[e.name] ??= { ms: 0, count: 0 });
      t.ms += (e.dur ?? 0) / 1000;
      t.count++;
    }
    return out;
  }

  toJSON(): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms'; otherData: Record<string, string> } {
    return { traceEvents: this.events, displayTimeUnit: 'ms', otherData: { producer: 'detrlab', host: os.hostname() } };
  }

  /** Writes `<tbDir>/plugins/profile/<timestamp>/<host>.pt.trace.json`; returns the path. */
  writeUnder(tbDir: string, when = new Date()): string {
    const stamp = when.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '_');
    const file = path.join(tbDir, 'plugins', 'profile', stamp, `${os.hostname()}.pt.trace.json`);
    writeJsonAtomic(file, this.toJSON());
    return file;
  }
}
