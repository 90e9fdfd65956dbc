/** tfjs' per-kernel timings of a step's gradient computation (`detrlab train --profile`). */
import * as tf from '@tensorflow/tfjs-core';

export interface KernelRecord {
  name: string;
  kernelTimeMs: number;
  /** Bytes of the tensors the kernel allocated (tf.profile's bytesAdded; outputs minus what it freed). */
  bytesAdded?: number;
  inputShapes?: number[][];
  outputShapes?: number[][];
}

/** Runs `fn`, under tf.profile when asked, returning its result and the kernel timings. */
export async function profiled<T>(on: boolean, fn: () => Promise<T>): Promise<{ result: T; kernels?: KernelRecord[] }> {
  if (!on) return { result: await fn() };
  let result!: T;
  const info = await tf.profile(async () => {
    result = await fn();
  });
  const kernels = info.kernels.map((k) => ({
    name: k.name,
    kernelTimeMs: typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0,
    bytesAdded: k.bytesAdded,
    inputShapes: k.inputShapes,
    outputShapes: k.outputShapes,
  }));
  return { result, kernels };
}
