/**
 * The synthesis pipeline's one door to onnxruntime-node (the engine's native kernels, engine/native_kernels,
 * use its binding directly, for single-node sessions). Opens a model file, checks its inputs/outputs against
 * a role's layout (io_spec.ts), picks the execution provider (CUDA when onnxruntime-node lists it and it
 * loads, else CPU), and runs it on plain host tensors, converting at the boundary:
 * float32 ↔ float16 (Uint16 bits), int ids → int32/int64, scalars ↔ [B] per the session's metadata.
 * The native binding loads on first use, so importing the library barrel does not load onnxruntime.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { UserError } from '../params/user_error.js';
import { fromHalf, toHalf } from './half.js';
import { checkModelIo, ElemType, ModelSpec, TensorMeta } from './io_spec.js';

let ortModule: typeof Ort | undefined;
const ort = (): typeof Ort => (ortModule ??= require('onnxruntime-node') as typeof Ort);

/** A tensor on the host: float data is always float32 here, ids are plain numbers. */
export interface HostTensor {
  data: Float32Array | Float64Array | Int32Array | BigInt64Array;
  dims: number[];
}

export type ExecutionProvider = 'cuda' | 'cpu';
export interface OpenOptions {
  providers?: ExecutionProvider[];
  spec?: ModelSpec;
  /** intra-op threads (default: onnxruntime's, one per core) */ threads?: number;
}

/**
 * Execution providers to try, best first: CUDA where this onnxruntime-node build lists it and its
 * provider library was installed beside the binding (the npm postinstall downloads it; offline installs
 * skip it), else CPU alone. The reason is kept for reports.
 */
export function availableProviders(): { providers: ExecutionProvider[]; reason: string } {
  const listed = ort()
    .listSupportedBackends()
    .map((b) => b.name);
  if (!listed.includes('cuda')) return { providers: ['cpu'], reason: 'this onnxruntime-node build does not list CUDA' };
  const binDir = path.join(
    path.dirname(require.resolve('onnxruntime-node/package.json')),
    'bin',
    'napi-v6',
    process.platform,
    process.arch,
  );
  if (
    !fs.existsSync(
      path.join(
        binDir,
        process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so',
      ),
    )
  ) {
    return {
      providers: ['cpu'],
      reason: 'CUDA is listed but its provider library is not installed (onnxruntime-node postinstall skipped)',
    };
  }
  return { providers: ['cuda', 'cpu'], reason: 'CUDA provider library found' };
}

export class OnnxModel {
  /** Milliseconds spent inside `session.run` (the bare ONNX time, for the overhead figure). */
  runMs = 0;
  runs = 0;
  private constructor(
    readonly file: string,
    private readonly session: Ort.InferenceSession,
    readonly provider: ExecutionProvider,
    readonly inputs: TensorMeta[],
    readonly outputs: TensorMeta[],
  ) {}

  static async open(file: string, o: OpenOptions = {}): Promise<OnnxModel> {
    if (!fs.existsSync(file)) throw new UserError(`model file ${file} does not exist`);
    const providers = o.providers ?? availableProviders().providers;
    let lastError: unknown;
    for (const ep of providers) {
      let session: Ort.InferenceSession;
      try {
        session = await ort().InferenceSession.create(file, {
          executionProviders: [ep],
          graphOptimizationLevel: 'all',
          logSeverityLevel: 3,
          ...(o.threads ? { intraOpNumThreads: o.threads } : {}),
        });
      } catch (e) {
        lastError = e;
        continue;
      }
      const model = new OnnxModel(file, session, ep, metasOf(session.inputMetadata), metasOf(session.outputMetadata));
      if (o.spec) {
        try {
          checkModelIo(o.spec, file, model.inputs, model.outputs);
        } catch (e) {
          await model.dispose();
          throw e;
        }
      }
      return model;
    }
    throw new UserError(
      `cannot open ${file} with onnxruntime-node (${providers.join(', ')}): ${(lastError as Error)?.message ?? lastError}`,
    );
  }

  input(name: string): TensorMeta | undefined {
    return this.inputs.find((m) => m.name === name);
  }

  /** Runs the model; inputs converted to the declared element types, float outputs returned as float32. */
  async run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, Ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      const meta = this.input(name);
      if (!meta) throw new Error(`${this.file}: no input named '${name}'`);
      checkFixedDims(this.file, meta, t.dims);
      ortFeeds[name] = toOrt(t, meta);
    }
    const t0 = performance.now();
    const out = await this.session.run(ortFeeds);
    this.runMs += performance.now() - t0;
    this.runs++;
    const result: Record<string, HostTensor> = {};
    for (const [name, v] of Object.entries(out)) result[name] = fromOrt(v as Ort.Tensor);
    return result;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** A model with fixed dims (e.g. controlnet_cond [B,3,512,512]) names the size it needs instead of failing inside ORT. */
function checkFixedDims(file: string, meta: TensorMeta, dims: number[]): void {
  if (meta.shape.length !== dims.length) return;
  meta.shape.forEach((d, k) => {
    if (typeof d === 'number' && d > 0 && d !== dims[k]) {
      throw new UserError(
        `${file}: input '${meta.name}' has a fixed shape [${meta.shape.join(',')}] but the pipeline feeds [${dims.join(',')}] (dim ${k}); use the size this export was made for`,
      );
    }
  });
}

function metasOf(ms: readonly Ort.InferenceSession.ValueMetadata[]): TensorMeta[] {
  return ms.map((m) =>
    m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'non-tensor', shape: [] },
  );
}

/** One host tensor → the element type and rank the session declares (a [1]/[B] timestep may become a scalar). */
function toOrt(t: HostTensor, meta: TensorMeta): Ort.Tensor {
  const { Tensor } = ort();
  const dims = meta.shape.length === 0 && t.dims.length === 1 && t.dims[0] === 1 ? [] : t.dims;
  const type = meta.type as ElemType;
  const nums = (): number[] => Array.from(t.data as ArrayLike<number | bigint>, Number);
  switch (type) {
    case 'float32':
      return new Tensor('float32', t.data instanceof Float32Array ? t.data : Float32Array.from(nums()), dims);
    case 'float16':
      return new Tensor('float16', toHalf(t.data instanceof Float32Array ? t.data : Float32Array.from(nums())), dims);
    case 'float64':
      return new Tensor('float64', Float64Array.from(nums()), dims);
    case 'int32':
      return new Tensor('int32', t.data instanceof Int32Array ? t.data : Int32Array.from(nums().map(Math.trunc)), dims);
    case 'int64':
      return new Tensor(
        'int64',
        t.data instanceof BigInt64Array ? t.data : BigInt64Array.from(nums().map((v) => BigInt(Math.trunc(v)))),
        dims,
      );
    default:
      throw new Error(`input '${meta.name}': element type ${meta.type} is not supported`);
  }
}

function fromOrt(v: Ort.Tensor): HostTensor {
  const dims = [...v.dims];
  switch (v.type) {
    case 'float32':
      return { data: v.data as Float32Array, dims };
    case 'float16':
      return {
        data: v.data instanceof Uint16Array ? fromHalf(v.data) : Float32Array.from(v.data as ArrayLike<number>),
        dims,
      };
    case 'float64':
      return { data: v.data as Float64Array, dims };
    case 'int32':
      return { data: v.data as Int32Array, dims };
    case 'int64':
      return { data: v.data as BigInt64Array, dims };
    default:
      throw new Error(`output of type ${v.type} is not supported`);
  }
}
