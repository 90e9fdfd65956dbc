/** Worker-thread entry of run_workers.ts: trains one run (workerData = RunSpec) and reports back. */
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../params/user_error.js';
import { RunSpec, trainRun } from './train_run.js';
import type { WorkerMessage } from './run_workers.js';

const post = (m: WorkerMessage) => parentPort!.postMessage(m);

trainRun(workerData as RunSpec, { onSteps: (n, info) => post({ type: 'steps', n, info }) })
  .then(() => post({ type: 'done' }))
  .catch((e: Error) => post({ type: 'error', message: e.message, stack: e.stack, user: e instanceof UserError }));
