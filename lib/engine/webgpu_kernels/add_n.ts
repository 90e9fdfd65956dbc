/**
 * AddN on webgpu with any number of inputs.
 *
 * tfjs-backend-webgpu 4.22 compiles AddN into one shader that binds every input as a storage buffer
 * (AddNPackedProgram). A device allows `maxStorageBuffersPerShaderStage` of them (one is the output):
 * 8 by default, 12 on SwiftShader. Past that, Dawn rejects the dispatch with a validation error
 * ("The number of storage buffers (113) in the Compute stage exceeds the maximum per-stage limit (12)")
 * that tfjs never sees: the result is silently wrong. Found with the gradient-norm clip (an AddN over
 * every gradient) and DETR's weighted loss total (18 terms with 6 decoder layers).
 * Fix: sum chunks of at most (limit − 1) inputs with the stock kernel, then the partial sums, recursively
 * (tfjs' own Concat kernel splits the same way). Summation order within a chunk is unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type KernelFunc = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];
interface LimitedBackend {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  disposeData(dataId: object): void;
}

/** Wraps an AddN kernel function so that no call gets more than `maxStorageBuffersPerShaderStage − 1` inputs. */
export function chunkedAddN(stock: KernelFunc): KernelFunc {
  const run = (args: KernelArgs): tf.TensorInfo => {
    const inputs = args.inputs as unknown as tf.TensorInfo[];
    const backend = args.backend as LimitedBackend;
    const max = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
    if (inputs.length <= max) return stock(args) as tf.TensorInfo;
    const partial: tf.TensorInfo[] = [];
    for (let i = 0; i < inputs.length; i += max) {
      partial.push(
        stock({ ...args, inputs: inputs.slice(i, i + max) as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo,
      );
    }
    const out = run({ ...args, inputs: partial as unknown as tf.NamedTensorInfoMap });
    for (const p of partial) backend.disposeData(p.dataId);
    return out;
  };
  return run;
}

const WRAPPED = Symbol.for('detrlab.webgpu.addN');

/** Replaces the registered webgpu AddN kernel with the chunked one (idempotent). */
export function registerChunkedAddN(): boolean {
  const k = tf.getKernel('AddN', 'webgpu') as (tf.KernelConfig & { [WRAPPED]?: true }) | undefined;
  if (!k || k[WRAPPED]) return false;
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({
    ...k,
    kernelFunc: chunkedAddN(k.kernelFunc as KernelFunc) as tf.KernelFunc,
    [WRAPPED]: true,
  } as tf.KernelConfig);
  return true;
}
