/**
 * Synchronous single-node ONNX sessions on onnxruntime-node's CPU provider (MLAS), reading and writing
 * tensors in place in the tfjs wasm backend's heap.
 *
 * What this relies on (onnxruntime-node 1.30, checked by the tests in tests/engine/native_kernels.test.ts):
 * - `onnxruntime-node/dist/binding.js` exports `binding` (the N-API module) and `initOrt()`. The public
 *   `InferenceSession.run` is a Promise around the binding's `InferenceSession.run(feeds, fetches, options)`
 *   (dist/backend.js, `OnnxruntimeSessionHandler.run`), which is synchronous; a tfjs kernel must return
 *   synchronously, so this module calls the binding's session directly: `loadModel(buffer, byteOffset,
 *   byteLength, options)` then `run(feeds, fetches, runOptions)`.
 * - A feed is any object `{ type, dims, data, location: 'cpu' }` (js/node/src/tensor_helper.cc,
 *   `NapiValueToOrtValue`); a float32 `data` becomes an OrtValue over the typed array's own memory, so a
 *   Float32Array view of the wasm heap is read without a copy.
 * - A fetch given as such an object (rather than null) is a pre-allocated output (`InferenceSessionWrap::Run`):
 *   onnxruntime writes the result into it, i.e. straight into the wasm heap. The binding still returns a
 *   copy of every output in a new ArrayBuffer (`OrtValueToNapiValue`), which is dropped here: one memcpy
 *   of the output per call that this API gives no way to avoid.
 * - Nothing allocates wasm memory between taking the views and the end of `run`, so the heap's
 *   ArrayBuffer cannot be replaced under them (see wasm_kernels/heap.ts).
 * One intra-op thread per session: in Node the wasm backend runs one thread per worker, and data-parallel
 * training runs one worker per core (engine/workers.ts), so more threads would oversubscribe the cores.
 */
import { createRequire } from 'node:module';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackend } from '../wasm_kernels/heap.js';

interface OrtFeed {
  type: 'float32';
  dims: number[];
  data: Float32Array;
  location: 'cpu';
}
interface BindingSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, OrtFeed>, fetches: Record<string, OrtFeed | null>, options: object): unknown;
  dispose?(): void;
}
interface BindingModule {
  binding: { InferenceSession: new () => BindingSession };
  initOrt(): void;
}

const req = createRequire(__filename);
let loaded: { ok: true; mod: BindingModule } | { ok: false; detail: string } | undefined;

/** Loads onnxruntime-node's native binding once; `ok: false` says why it cannot be used. */
export function loadOrt(): { ok: true } | { ok: false; detail: string } {
  if (!loaded) {
    try {
      const mod = req('onnxruntime-node/dist/binding.js') as BindingModule;
      if (typeof mod.binding?.InferenceSession !== 'function' || typeof mod.initOrt !== 'function')
        throw new Error('dist/binding.js does not export binding.InferenceSession and initOrt');
      mod.initOrt();
      loaded = { ok: true, mod };
    } catch (e) {
      loaded = { ok: false, detail: `onnxruntime-node failed to load: ${(e as Error).message.split('\n')[0]}` };
    }
  }
  return loaded.ok ? { ok: true } : loaded;
}

let runs = 0;
/** Native runs so far in this thread (tests check that a path really ran natively). */
export const nativeRunCount = (): number => runs;

/**
 * No memory arena and no memory pattern: with them every cached session keeps its peak scratch (patches,
 * transposes) after its first run, which measured +1.1 GB RSS on the DETR-R50 512² step and no speed gain.
 */
const SESSION_OPTIONS = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  enableCpuMemArena: false,
  enableMemPattern: false,
};

/** One ONNX model with named float32 inputs and outputs, run synchronously on wasm-heap tensors. */
export class NativeOp {
  private readonly session: BindingSession;
  constructor(model: Uint8Array) {
    const r = loadOrt();
    if (!r.ok) throw new Error(r.detail);
    if (!loaded?.ok) throw new Error('unreachable');
    this.session = new loaded.mod.binding.InferenceSession();
    this.session.loadModel(model.buffer, model.byteOffset, model.byteLength, SESSION_OPTIONS);
  }

  /**
   * Runs the model on `inputs` (tensors of the wasm backend `be`), writing each output into the given
   * wasm tensor (already allocated with the output's exact shape). Every view is taken after the last
   * allocation, right before the native call.
   */
  run(be: WasmBackend, inputs: Record<string, TensorInfo>, outputs: Record<string, TensorInfo>): void {
    const buf = be.wasm.HEAPF32.buffer;
    const feed = (t: TensorInfo): OrtFeed => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      return {
        type: 'float32',
        dims: t.shape,
        data: new Float32Array(buf, be.dataIdMap.get(t.dataId).memoryOffset, n),
        location: 'cpu',
      };
    };
    const feeds: Record<string, OrtFeed> = {},
      fetches: Record<string, OrtFeed> = {};
    for (const [k, t] of Object.entries(inputs)) feeds[k] = feed(t);
    for (const [k, t] of Object.entries(outputs)) fetches[k] = feed(t);
    this.session.run(feeds, fetches, {});
    runs++;
  }

  dispose(): void {
    this.session.dispose?.();
  }
}

/** Sessions by key (op, shapes, attributes), least recently used dropped beyond `max`. */
export class SessionCache {
  private readonly map = new Map<string, NativeOp>();
  /** Sessions built so far (a figure for benchmarks: each costs a model load). */
  built = 0;
  constructor(private readonly max = 512) {}

  get(key: string, build: () => Uint8Array): NativeOp {
    let op = this.map.get(key);
    if (op) {
      this.map.delete(key);
    } else {
      op = new NativeOp(build());
      this.built++;
      if (this.map.size >= this.max) {
        const [oldKey, old] = this.map.entries().next().value as [string, NativeOp];
        this.map.delete(oldKey);
        old.dispose();
      }
    }
    this.map.set(key, op);
    return op;
  }

  clear(): void {
    for (const op of this.map.values()) op.dispose();
    this.map.clear();
  }
}
