/**
 * The only place that picks the tfjs backend. Chain (first that works wins):
 *   webgpu (a real GPU adapter through Dawn) → node-gpu (@tensorflow/tfjs-node-gpu, CUDA)
 *   → node (@tensorflow/tfjs-node) → wasm (with detrlab's training kernels) → cpu (pure JS).
 * Every attempt is recorded with the reason it was taken or skipped, so a run's config.json says
 * exactly why it trained where it did.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { UserError } from '../params/user_error.js';
import { registerWasmTrainingKernels } from './wasm_kernels/index.js';
import { NATIVE_KERNELS_ENV, nativeKernelsRequested } from './native_kernels/switch.js';
import { inNotebook } from '../viz/notebook_context.js';

export const BACKEND_CHAIN = ['webgpu', 'node-gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_CHAIN)[number];
export type BackendChoice = 'auto' | BackendName;

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  detail: string;
}
export interface EngineInfo {
  /** The chain entry in use (`wasm`, `cpu`, …). */
  backend: BackendName;
  /** tfjs' own backend name (`tensorflow` for the native ones). */
  tfBackend: string;
  /** One line: why this backend. */
  reason: string;
  attempts: BackendAttempt[];
  versions: Record<string, string>;
  /** GPU adapter details when the backend is webgpu. */
  adapter?: Record<string, unknown>;
}

const req = createRequire(__filename);
// tfjs-core's CommonJS build registers no gradients (its register_all_gradients is ESM with bare
// specifiers Node cannot resolve); the @tensorflow/tfjs bundle registers them all into the shared
// global registry. Nothing else from it is used.
if (!tf.getGradient('Abs')) req('@tensorflow/tfjs');
let current: EngineInfo | undefined;

type Probe = () => Promise<
  { ok: true; detail: string; tfBackend: string; adapter?: Record<string, unknown> } | { ok: false; detail: string }
>;

/** Loads a package only if it is the real thing (danfojs' override puts @tensorflow/tfjs under the tfjs-node name). */
function loadNative(pkg: string): { ok: false; detail: string } | { ok: true } {
  let pj: { name?: string; version?: string };
  try {
    pj = req(`${pkg}/package.json`);
  } catch {
    return { ok: false, detail: `${pkg} is not installed${pkg.endsWith('-gpu') ? ' (npm run setup:gpu)' : ''}` };
  }
  if (pj.name !== pkg)
    return {
      ok: false,
      detail: `${pkg} resolves to ${pj.name}@${pj.version} (an npm override), not the native binding`,
    };
  if (pj.version !== tf.version_core)
    return { ok: false, detail: `${pkg}@${pj.version} does not match @tensorflow/tfjs-core@${tf.version_core}` };
  try {
    req(pkg);
  } catch (e) {
    return { ok: false, detail: `${pkg} failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
  return { ok: true };
}

async function setTf(name: string): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

const PROBES: Record<BackendName, Probe> = {
  async webgpu() {
    const { probeWebGpu } = await import('./webgpu.js');
    return probeWebGpu();
  },
  async 'node-gpu'() {
    const r = loadNative('@tensorflow/tfjs-node-gpu');
    if (!r.ok) return r;
    if (!(await setTf('tensorflow')))
      return { ok: false, detail: 'tfjs-node-gpu loaded but its backend did not initialise' };
    const usingGpu = (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice;
    if (!usingGpu)
      return { ok: false, detail: 'tfjs-node-gpu found no CUDA device (it needs CUDA 11.2 + cuDNN 8.1); not using it' };
    return { ok: true, detail: 'CUDA device found by libtensorflow', tfBackend: 'tensorflow' };
  },
  async node() {
    const r = loadNative('@tensorflow/tfjs-node');
    if (!r.ok) return r;
    if (!(await setTf('tensorflow')))
      return { ok: false, detail: 'tfjs-node loaded but its backend did not initialise' };
    return { ok: true, detail: 'native libtensorflow (CPU)', tfBackend: 'tensorflow' };
  },
  async wasm() {
    try {
      req('@tensorflow/tfjs-backend-wasm');
    } catch (e) {
      return { ok: false, detail: `@tensorflow/tfjs-backend-wasm failed to load: ${(e as Error).message}` };
    }
    registerWasmTrainingKernels();
    // Convolutions and matmuls on onnxruntime-node's MLAS (native_kernels/), unless DETRLAB_NATIVE_KERNELS=0.
    let native = `; native kernels off (${NATIVE_KERNELS_ENV}=0)`;
    if (nativeKernelsRequested()) {
      const { registerNativeKernels } = await import('./native_kernels/index.js'); // loaded only when used
      const r = registerNativeKernels();
      native = r.ok ? `; ${r.detail}` : `; native kernels not used: ${r.detail}`;
    }
    if (!(await setTf('wasm'))) return { ok: false, detail: 'wasm backend did not initialise' };
    return {
      ok: true,
      detail: `WebAssembly SIMD (XNNPACK), one thread per process, detrlab training kernels registered${native}`,
      tfBackend: 'wasm',
    };
  },
  async cpu() {
    req('@tensorflow/tfjs-backend-cpu');
    if (!(await setTf('cpu'))) return { ok: false, detail: 'cpu backend did not initialise' };
    (tf.backend() as unknown as { firstUse: boolean }).firstUse = false; // skip tfjs' "install tfjs-node" banner
    return {
      ok: true,
      detail: 'pure JavaScript (slow: about 100× slower than wasm for convolutions)',
      tfBackend: 'cpu',
    };
  },
};

export interface EngineOptions {
  /**
   * `auto` walks the chain; a name forces that backend (an error if it cannot start). Any string is accepted
   * (a notebook's parameter is a plain string) and checked here: an unknown name is a UserError.
   */
  backend?: BackendChoice | (string & {});
  /** Where the one-line summary goes (default: stderr). Pass `null` for silence. */
  log?: ((line: string) => void) | null;
}

/**
 * Picks and activates the backend. Idempotent: a second call with the same (or `auto`) choice returns
 * the active engine; a different explicit choice switches backend.
 */
export async function initEngine(opts: EngineOptions = {}): Promise<EngineInfo> {
  const choice = (opts.backend ?? process.env.DETRLAB_BACKEND ?? 'auto') as BackendChoice;
  if (choice !== 'auto' && !BACKEND_CHAIN.includes(choice)) {
    throw new UserError(`unknown backend '${choice}'; choose auto or one of ${BACKEND_CHAIN.join(', ')}`);
  }
  if (current && (choice === 'auto' || choice === current.backend)) return current;
  // One quiet line in a terminal; none inside a notebook (notebook 00 / `detrlab environment` show the full story).
  const log = opts.log === undefined ? (inNotebook() ? null : (s: string) => process.stderr.write(s + '\n')) : opts.log;
  const order: readonly BackendName[] = choice === 'auto' ? BACKEND_CHAIN : [choice];
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    const r = await PROBES[name]();
    attempts.push({ name, ok: r.ok, detail: r.detail });
    if (r.ok) {
      const skipped = attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${a.detail}`);
      current = {
        backend: name,
        tfBackend: r.tfBackend,
        reason:
          choice === 'auto'
            ? `${name} (${r.detail})${skipped.length ? `; skipped ${skipped.join('; ')}` : ''}`
            : `${name} (forced; ${r.detail})`,
        attempts,
        versions: engineVersions(),
        ...(r.adapter ? { adapter: r.adapter } : {}),
      };
      const faster = choice === 'auto' ? skipped.length : 0;
      log?.(
        `[engine] ${name} backend${/native kernels/.test(r.detail) ? ' with native kernels' : ''}${faster ? ` (${faster} faster backend(s) unavailable here; \`detrlab environment\` says why)` : ''}`,
      );
      return current;
    }
  }
  const why = attempts.map((a) => `${a.name}: ${a.detail}`).join('; ');
  throw new UserError(`no tfjs backend could start (${why})`);
}

/** The active engine, if `initEngine` has run. */
export const engineInfo = (): EngineInfo | undefined => current;

export function engineVersions(): Record<string, string> {
  const v: Record<string, string> = { node: process.version, 'tfjs-core': tf.version_core };
  for (const p of [
    '@tensorflow/tfjs-backend-wasm',
    '@tensorflow/tfjs-backend-webgpu',
    'onnxruntime-node',
    'sharp',
    'tslab',
  ]) {
    try {
      v[p.replace(/^@tensorflow\//, '')] = (req(`${p}/package.json`) as { version: string }).version;
    } catch {
      /* not installed */
    }
  }
  return v;
}
