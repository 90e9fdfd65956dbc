/**
 * `--amp` (automatic mixed precision) is honest here: tfjs has no float16 dtype (tfjs-core dtypes are
 * float32, int32, bool, complex64, string; tensorflow/tfjs PR #4445 was never merged), so no tfjs
 * backend — wasm, cpu, webgpu, tfjs-node(-gpu) — can run float16 training kernels. The flag is accepted
 * so the seed's command line works, recorded in config.json as requested-but-inactive with the reason,
 * and announced in the log. Training is float32 either way; checkpoints can still be saved as float16.
 */
export interface AmpDecision {
  requested: boolean;
  active: false;
  dtype: 'float32';
  reason: string;
}

export function decideAmp(requested: boolean, backend: string): AmpDecision {
  const reason = requested
    ? `--amp requested, but tfjs has no float16 training on any backend (here: ${backend}); training in float32`
    : 'not requested; training in float32';
  return { requested, active: false, dtype: 'float32', reason };
}
