/**
 * Profiler trace in the Chrome trace-event format (a JSON object with `traceEvents`; opens in Perfetto
 * and chrome://tracing): complete events (`ph: "X"`, µs), properly nested on every track (a slice lies
 * wholly inside its parent or wholly after it, never across its end):
 *   training steps   `step N` ⊃ {`gradients` ⊃ {forward, matching + loss, backward} (in-process), `clip + AdamW`}
 *   worker i         `gradients (worker i)` ⊃ {forward, matching + loss, backward}, from the worker's own clock
 *   data loading     `data wait` before each step
 *   tfjs kernels     from `tf.profile` (worker 0's share), laid back to back
 * and memory as counter events. Written under `<run>/tb/plugins/profile/<timestamp>/<host>.pt.trace.json`, the place
 * and name PyTorch's `tensorboard_trace_handler` uses.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { writeJsonAtomic } from '../io/atomic.js';
import type { StepTimings } from './replica.js';

export interface TraceEvent {
  name: string;
  cat: string;
  ph: 'X' | 'C' | 'M' | 'i';
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown>;
  s?: string;
}
export interface KernelTiming {
  name: string;
  kernelTimeMs: number | { error: string };
  inputShapes?: number[][];
  outputShapes?: number[][];
}

export const TID = { phases: 1, kernels: 2, data: 3, worker0: 10 } as const;

/** What `trainStep` reads of a trainer's StepResult. */
export interface TracedStep {
  timings: StepTimings;
  applyMs: number;
  kernels?: KernelTiming[];
  workerTimings?: StepTimings[];
}

/**
 * The traced steps [from, to) (0-based, counted before the step runs): `traceSteps` from `traceStart`,
 * moved earlier when the run ends before reaching it (a short run still records its steps), and never
 * before `firstStep` (a resumed run).
 */
export function traceWindow(
  traceStart: number,
  traceSteps: number,
  totalSteps: number,
  firstStep = 0,
): { from: number; to: number } {
  const from = Math.max(firstStep, Math.min(traceStart, totalSteps - traceSteps));
  return { from, to: from + traceSteps };
}
/** Wall-clock time in µs since the epoch (comparable across worker threads): the trace's clock. */
export const nowUs = (): number => performance.timeOrigin * 1000 + performance.now() * 1000;

export class TraceRecorder {
  readonly events: TraceEvent[] = [];
  private readonly pid = process.pid;
  private readonly namedTracks = new Set<number>();
  /** Ends of the last slice on the data and kernel tracks (each step's slices start after them). */
  private dataEnd = -Infinity;
  private kernelEnd = -Infinity;

  constructor(processName = 'detrlab train') {
    this.meta('process_name', 0, { name: processName });
    this.meta('thread_name', TID.phases, { name: 'training steps' });
    this.meta('thread_name', TID.kernels, { name: 'tfjs kernels (tf.profile; laid back to back)' });
    this.meta('thread_name', TID.data, { name: 'data loading' });
  }

  private meta(name: string, tid: number, args: Record<string, unknown>): void {
    this.events.push({ name, cat: '__metadata', ph: 'M', ts: 0, pid: this.pid, tid, args });
  }

  /** Times `fn` as one complete event; works for sync and async functions. */
  async span<T>(
    name: string,
    cat: string,
    fn: () => T | Promise<T>,
    tid: number = TID.phases,
    args?: Record<string, unknown>,
  ): Promise<T> {
    const ts = nowUs();
    try {
      return await fn();
    } finally {
      this.complete(name, cat, ts, nowUs() - ts, tid, args);
    }
  }

  complete(
    name: string,
    cat: string,
    tsUs: number,
    durUs: number,
    tid: number = TID.phases,
    args?: Record<string, unknown>,
  ): void {
    this.events.push({
      name,
      cat,
      ph: 'X',
      ts: tsUs,
      dur: Math.max(0, durUs),
      pid: this.pid,
      tid,
      ...(args ? { args } : {}),
    });
  }

  /**
   * Kernels measured by `tf.profile` inside a phase that started at `startUs`: tfjs reports each kernel's
   * own time but not when it ran, so they are placed one after another from the phase start.
   */
  kernels(list: KernelTiming[], startUs: number, cat = 'kernel'): void {
    let t = startUs;
    for (const k of list) {
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      this.complete(k.name, cat, t, ms * 1000, TID.kernels, {
        inputShapes: k.inputShapes,
        outputShapes: k.outputShapes,
      });
      t += ms * 1000;
    }
    this.kernelEnd = t;
  }

  /**
   * One training step [startUs, endUs] as nested slices (see the header). Measured durations are laid end
   * to end inside their parent and clipped to it, so rounding or threads never make a slice cross its
   * parent's end.
   */
  trainStep(step: number, startUs: number, endUs: number, waitMs: number, r: TracedStep): void {
    const args = { step };
    const waitStart = Math.max(startUs - waitMs * 1000, this.dataEnd);
    this.complete('data wait', 'data', waitStart, startUs - waitStart, TID.data, args);
    this.dataEnd = startUs;
    const applyStart = Math.max(startUs, endUs - r.applyMs * 1000);
    this.complete(`step ${step}`, 'step', startUs, endUs - startUs, TID.phases, args);
    this.complete('gradients', 'phase', startUs, applyStart - startUs, TID.phases, args);
    const phases = (t: StepTimings): Array<[string, number]> => [
      ['forward', t.forwardMs - t.matchMs],
      ['matching + loss', t.matchMs],
      ['backward', t.backwardMs],
    ];
    let kernelStart = startUs;
    if (!r.workerTimings) {
      const from = Math.min(Math.max(startUs, r.timings.startUs ?? startUs), applyStart);
      this.laidOut(phases(r.timings), from, applyStart, TID.phases, args);
      kernelStart = from;
    } else {
      r.workerTimings.forEach((t, i) => {
        const tid = TID.worker0 + i;
        if (!this.namedTracks.has(tid)) {
          this.meta('thread_name', tid, { name: `worker ${i}` });
          this.namedTracks.add(tid);
        }
        const from = Math.min(Math.max(startUs, t.startUs ?? startUs), applyStart);
        const end = Math.min(from + (t.forwardMs + t.backwardMs) * 1000, applyStart);
        this.complete(`gradients (worker ${i})`, 'phase', from, end - from, tid, args);
        this.laidOut(phases(t), from, end, tid, args);
        if (i === 0) kernelStart = from;
      });
    }
    this.complete('clip + AdamW', 'phase', applyStart, endUs - applyStart, TID.phases, args);
    if (r.kernels) this.kernels(r.kernels, Math.max(kernelStart, this.kernelEnd));
  }

  /** Consecutive slices of the given durations (ms) from `from`, each clipped to end by `end`. */
  private laidOut(
    pieces: Array<[string, number]>,
    from: number,
    end: number,
    tid: number,
    args: Record<string, unknown>,
  ): void {
    let t = from;
    for (const [name, ms] of pieces) {
      const e = Math.min(t + Math.max(0, ms) * 1000, end);
      this.complete(name, 'phase', t, e - t, tid, args);
      t = e;
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
