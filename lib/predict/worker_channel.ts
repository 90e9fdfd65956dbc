/** One model worker thread and its request/response channel (id 0 is the worker's "ready" message). */
import type { Worker } from 'node:worker_threads';

type Pending = { resolve(v: unknown): void; reject(e: Error): void };

export class WorkerChannel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  readonly ready: Promise<void>;

  constructor(readonly worker: Worker) {
    let readyResolve!: () => void, readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    worker.on(
      'message',
      (m: {
        id: number;
        ok: boolean;
        result?: unknown;
        error?: { message: string; name?: string; stack?: string };
      }) => {
        if (m.id === 0) {
          if (m.ok) readyResolve();
          else
            readyReject(
              Object.assign(new Error(`worker failed to start: ${m.error?.message}`), { stack: m.error?.stack }),
            );
          return;
        }
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        // the worker's error name travels too (NonFiniteError, UserError decide how training stops)
        if (m.ok) p.resolve(m.result);
        else
          p.reject(
            Object.assign(new Error(m.error?.message ?? 'worker error'), {
              name: m.error?.name ?? 'Error',
              stack: m.error?.stack,
            }),
          );
      },
    );
    worker.on('error', (e) => {
      readyReject(e);
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
    worker.on('exit', (code) => {
      const e = new Error(`model worker exited (code ${code})`);
      readyReject(e);
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
  }

  call<T>(msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }
}
