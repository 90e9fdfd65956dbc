/**
 * Synchronous reads (`dataSync`, `arraySync`) on tfjs' webgpu backend under Node.
 *
 * In a browser, tfjs-backend-webgpu reads a GPU buffer synchronously by drawing it into an
 * OffscreenCanvas (WebGPUBackend.readSync). Node has no OffscreenCanvas, so the stock code dies with
 * "ReferenceError: OffscreenCanvas is not defined". Nor can it be done another way: Dawn's Node binding
 * completes `GPUBuffer.mapAsync` only from its own setImmediate loop (google/dawn
 * src/dawn/node/binding/AsyncRunner.cpp), so no JavaScript call can wait for a GPU read without
 * returning to the event loop (checked: polling `mapState` while calling queue/device methods never
 * sees the buffer mapped). What remains possible, and is kept:
 *  - values already on the CPU (uploaded from JS and not yet replaced, or cached by an earlier
 *    `await tensor.data()`) are returned as before;
 *  - anything else fails with a WebGpuSyncReadError that says what to do instead.
 */
export const SYNC_READ_HELP =
  'the webgpu backend cannot read GPU memory synchronously under Node (no dataSync/arraySync/bufferSync on a tensor computed on the GPU): ' +
  'read it with `await tensor.data()` first (which also caches it for later sync reads), or run this code on the wasm backend (DETRLAB_BACKEND=wasm); see docs/gpu.md';

export class WebGpuSyncReadError extends Error {
  constructor(shape: number[], dtype: string) {
    super(`${SYNC_READ_HELP} [tensor ${dtype} [${shape.join(', ')}]]`);
    this.name = 'WebGpuSyncReadError';
  }
}

interface TensorData {
  values?: unknown;
  dtype: string;
  shape: number[];
}
interface BackendProto {
  readSync(this: BackendLike, dataId: object): unknown;
}
interface BackendLike {
  tensorMap: { get(dataId: object): TensorData };
}

const PATCHED = Symbol.for('detrlab.webgpu.readSync');

/** Replaces WebGPUBackend.prototype.readSync (idempotent). Returns false if it was already patched. */
export function patchReadSync(proto: BackendProto): boolean {
  const p = proto as BackendProto & { [PATCHED]?: true };
  if (p[PATCHED]) return false;
  const stock = proto.readSync;
  p.readSync = function readSync(this: BackendLike, dataId: object): unknown {
    const d = this.tensorMap.get(dataId);
    // CPU-resident values, strings, complex (whose parts come back through this same function): stock path.
    if (d.values != null || d.dtype === 'string' || d.dtype === 'complex64') return stock.call(this, dataId);
    throw new WebGpuSyncReadError(d.shape, d.dtype);
  };
  p[PATCHED] = true;
  return true;
}
