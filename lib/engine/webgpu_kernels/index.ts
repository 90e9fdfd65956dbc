/**
 * Engine-level fixes for @tensorflow/tfjs-backend-webgpu under Node (the webgpu counterpart of
 * wasm_kernels/): applied once by webgpu.ts before the backend starts, so model code stays unchanged.
 *  - read_sync.ts: synchronous reads fail with a clear error instead of an OffscreenCanvas ReferenceError.
 *  - add_n.ts: AddN split into chunks the device can bind (else Dawn silently drops the dispatch).
 * tfjs' webgpu backend registers every other kernel DETR's forward and backward use; numerics are checked
 * against wasm by tests/engine/webgpu.test.ts wherever an adapter exists.
 */
import { patchReadSync } from './read_sync.js';
import { registerChunkedAddN } from './add_n.js';

export { WebGpuSyncReadError, SYNC_READ_HELP } from './read_sync.js';
export { chunkedAddN } from './add_n.js';

/** Applies every fix to the backend class exported by @tensorflow/tfjs-backend-webgpu and its registered kernels. */
export function installWebGpuFixes(backendClass: { prototype: object }): void {
  patchReadSync(backendClass.prototype as Parameters<typeof patchReadSync>[0]);
  registerChunkedAddN();
}
