/**
 * Several classifier runs at once, one worker thread each (wasm tfjs is single-threaded in Node, so this is
 * how independent runs use every core). At most `workers` threads at a time; each run is exactly what
 * `trainRun` does in-process (same seed → same files). Progress comes back as messages.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { UserError } from '../params/user_error.js';
import type { RunHooks, RunSpec } from './train_run.js';

export type WorkerMessage =
  | { type: 'steps'; n: number; info: Record<string, number | string> }
  | { type: 'done' }
  | { type: 'error'; message: string; stack?: string; user: boolean };

function runInWorker(spec: RunSpec, hooks: RunHooks): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'run_worker.js'), { workerData: spec });
    let settled = false;
    const finish = (e?: Error) => {
      if (settled) return;
      settled = true;
      void w.terminate().then(() => (e ? reject(e) : resolve())); // a worker's tfjs/wasm may keep it alive: end it
    };
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'steps') hooks.onSteps?.(m.n, m.info);
      else if (m.type === 'done') finish();
      else
        finish(
          Object.assign(m.user ? new UserError(m.message) : new Error(`run ${spec.name}: ${m.message}`), {
            stack: m.stack,
          }),
        );
    });
    w.on('error', (e) => finish(e));
    w.on('exit', (code) =>
      finish(code === 0 ? undefined : new Error(`run ${spec.name}: worker exited with code ${code}`)),
    );
  });
}

/** Runs every spec, `workers` at a time; the first failure is thrown once the running ones end. */
export async function trainRunsInWorkers(specs: RunSpec[], workers: number, hooks: RunHooks = {}): Promise<void> {
  let next = 0;
  const errors: Error[] = [];
  const lane = async () => {
    while (next < specs.length && errors.length === 0) {
      const spec = specs[next++];
      await runInWorker(spec, hooks).catch((e: Error) => {
        errors.push(e);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, specs.length) }, lane));
  if (errors.length) throw errors[0];
}
