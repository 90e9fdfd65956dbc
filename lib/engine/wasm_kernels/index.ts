/**
 * Kernels that make the wasm backend able to train (placeholder: filled in by the engine work).
 */
let registered = false;

export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
}
