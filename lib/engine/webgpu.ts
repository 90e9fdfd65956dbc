/**
 * WebGPU through Dawn's Node binding (`webgpu` npm package) for @tensorflow/tfjs-backend-webgpu.
 * Called by backend.ts as the first entry of the chain. Steps, each failing with one clear line:
 *   1. Vulkan loader present (Linux)? If not, Dawn is never loaded (so none of its warnings print).
 *   2. A child process asks Dawn for the high-performance adapter, with a deadline (a hung driver is
 *      killed, not waited on), raises the device limits and runs a tiny compute shader; Dawn's warnings
 *      are captured there and turned into the reason when no adapter is found (webgpu_probe_child.ts).
 *   3. CPU/software adapters (SwiftShader, lavapipe, llvmpipe, Dawn's fallback adapter) are refused.
 *   4. In this process: the device is created with the adapter's maximum buffer limits and handed to
 *      tfjs' WebGPUBackend (tfjs' own factory would request a second adapter), with detrlab's fixes.
 * Environment: DETRLAB_NO_WEBGPU=1 skips it; DETRLAB_WEBGPU_ADAPTER=<name part> picks an adapter;
 * DETRLAB_WEBGPU_PROBE_TIMEOUT_MS (default 30000); DETRLAB_WEBGPU_ALLOW_CPU=1 accepts a software
 * adapter (for testing the backend without a GPU, e.g. Chromium's SwiftShader — never for training).
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { execFile } from 'node:child_process';
import { isMainThread } from 'node:worker_threads';
import * as path from 'node:path';
import {
  AdapterFacts,
  adapterName,
  classifyAdapter,
  deviceLimits,
  explainNoAdapter,
  findIcdManifests,
  findVulkanLoader,
  limitsOf,
} from './webgpu_adapter.js';
import { ChildReport, PROBE_MARKER, adapterFacts } from './webgpu_probe_child.js';
import { installWebGpuFixes } from './webgpu_kernels/index.js';

const req = createRequire(__filename);

export type WebGpuProbe =
  { ok: true; detail: string; tfBackend: string; adapter: Record<string, unknown> } | { ok: false; detail: string };

export interface WebGpuOptions {
  /** Deadline for the adapter probe (ms). */
  timeoutMs: number;
  /** Accept a software adapter (testing only). */
  allowCpuAdapter: boolean;
  /** Dawn flags for `create()`, e.g. `adapter=RTX`. */
  flags: string[];
}

export function webGpuOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): WebGpuOptions {
  const t = Number(env.DETRLAB_WEBGPU_PROBE_TIMEOUT_MS);
  return {
    timeoutMs: Number.isFinite(t) && t > 0 ? t : 30_000,
    allowCpuAdapter: env.DETRLAB_WEBGPU_ALLOW_CPU === '1',
    flags: env.DETRLAB_WEBGPU_ADAPTER ? [`adapter=${env.DETRLAB_WEBGPU_ADAPTER}`] : [],
  };
}

type ChildOutcome = { ok: true; report: ChildReport; dawnLog: string; ms: number } | { ok: false; detail: string };

/** Runs webgpu_probe_child.js under a deadline and turns its output into a report or one reason. */
export function runAdapterProbe(opts: WebGpuOptions, env: NodeJS.ProcessEnv = process.env): Promise<ChildOutcome> {
  const child = path.join(__dirname, 'webgpu_probe_child.js');
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [child, JSON.stringify(opts.flags), opts.allowCpuAdapter ? '1' : '0'],
      { env, timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 << 20, windowsHide: true },
      (err, stdout, stderr) =>
        resolve(childOutcome(err as ExecError | null, stdout, stderr, opts.timeoutMs, performance.now() - t0)),
    );
  });
}

type ExecError = Error & { killed?: boolean; signal?: string | null; code?: number | string | null };

/** The child's last report, or one line saying how it failed (hung, crashed while testing the adapter, …). */
export function childOutcome(
  err: ExecError | null,
  stdout: string,
  stderr: string,
  timeoutMs: number,
  ms: number,
): ChildOutcome {
  const lines = stdout.split('\n').filter((l) => l.startsWith(PROBE_MARKER));
  const report = lines.length
    ? (JSON.parse(lines[lines.length - 1].slice(PROBE_MARKER.length)) as ChildReport)
    : undefined;
  const how = err?.killed
    ? `killed after ${(timeoutMs / 1000).toFixed(0)} s`
    : err?.signal
      ? `crashed: ${err.signal}`
      : `exit code ${err?.code ?? '?'}`;
  const last = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-1)[0];
  const tail = last ? `: ${last}` : '';
  if (report && !report.pending) return { ok: true, report, dawnLog: stderr, ms };
  if (report?.facts)
    return {
      ok: false,
      detail: `the GPU adapter '${adapterName(report.facts)}' failed its device/compute smoke test (${how})${tail}`,
    };
  if (err?.killed)
    return {
      ok: false,
      detail: `the GPU driver gave no adapter within ${(timeoutMs / 1000).toFixed(0)} s (Dawn's requestAdapter hung; probe killed); DETRLAB_WEBGPU_PROBE_TIMEOUT_MS raises the limit`,
    };
  return { ok: false, detail: `the WebGPU probe process failed (${how})${tail}` };
}

/** Dawn's warnings about other adapters, kept in the record (e.g. a lavapipe ICD next to the GPU's). */
const dawnWarnings = (log: string): string[] =>
  log
    .split('\n')
    .filter((l) => l.startsWith('Warning:'))
    .map((l) => l.slice(8).trim())
    .slice(0, 10);

/** Steps 1–3: a reason to skip webgpu, or the accepted adapter's facts. */
async function chooseAdapter(
  opts: WebGpuOptions,
): Promise<
  { ok: false; detail: string } | { ok: true; facts: AdapterFacts; report: ChildReport; dawnLog: string; ms: number }
> {
  if (process.env.DETRLAB_NO_WEBGPU === '1') return { ok: false, detail: 'disabled by DETRLAB_NO_WEBGPU=1' };
  if (!isMainThread)
    return {
      ok: false,
      detail:
        "not on a worker thread: Dawn's Node binding serves one JavaScript environment (train with one worker on webgpu)",
    };
  if (!findVulkanLoader())
    return {
      ok: false,
      detail: 'no Vulkan loader (libvulkan.so.1) on this machine; install the GPU driver and libvulkan1 (docs/gpu.md)',
    };
  const probe = await runAdapterProbe(opts);
  if (!probe.ok) return probe;
  const { report, dawnLog } = probe;
  if (!report.found || !report.facts) return { ok: false, detail: explainNoAdapter(dawnLog) };
  const verdict = classifyAdapter(report.facts, opts.allowCpuAdapter);
  if (!verdict.ok) return { ok: false, detail: verdict.reason };
  if (report.device && !report.device.ok)
    return {
      ok: false,
      detail: `the GPU adapter '${adapterName(report.facts)}' failed a compute smoke test: ${report.device.error}`,
    };
  return { ok: true, facts: report.facts, report, dawnLog, ms: probe.ms };
}

// Dawn's objects are untyped here (@webgpu/types is not in the project's compile scope).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const errors: string[] = [];
/** GPU errors Dawn reported asynchronously (validation, out-of-memory, device lost) since start-up. */
export const webGpuErrors = (): readonly string[] => errors;

function recordError(what: string): void {
  if (errors.length < 100) errors.push(what);
  if (errors.length === 1)
    process.stderr.write(`[engine] webgpu error (results after this are not trustworthy): ${what}\n`);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** Step 4: the device with raised limits, handed to tfjs' WebGPUBackend; returns the granted limits. */
async function startTfjsWebGpu(opts: WebGpuOptions, facts: AdapterFacts): Promise<Record<string, number>> {
  const dawn = req('webgpu') as { create: (flags: string[]) => Any; globals: Record<string, unknown> };
  Object.assign(globalThis, dawn.globals);
  // Loaded before navigator.gpu exists, so it does not register its own factory (which would ask for a
  // second adapter and device); its kernels register regardless.
  const mod = req('@tensorflow/tfjs-backend-webgpu') as {
    WebGPUBackend: new (device: Any, info?: Any) => tf.KernelBackend;
  };
  installWebGpuFixes(mod.WebGPUBackend);
  const gpu = dawn.create(opts.flags);
  const adapter: Any = await withTimeout<Any>(
    gpu.requestAdapter({ powerPreference: 'high-performance' }),
    opts.timeoutMs,
    'requestAdapter',
  );
  if (!adapter) throw new Error('Dawn returned no adapter in this process although the probe found one');
  const mine = adapterFacts(adapter, opts.flags);
  if (mine.device !== facts.device || mine.vendor !== facts.vendor)
    throw new Error(`Dawn chose '${adapterName(mine)}' here but '${adapterName(facts)}' in the probe`);
  const requiredFeatures = ['timestamp-query'].filter((f) => adapter.features.has(f)); // tf.profile kernel times
  const device: Any = await withTimeout<Any>(
    adapter.requestDevice({ requiredLimits: deviceLimits(facts.limits), requiredFeatures }),
    opts.timeoutMs,
    'requestDevice',
  );
  device.addEventListener('uncapturederror', (ev: Any) => recordError(String(ev?.error?.message ?? ev).split('\n')[0]));
  device.lost.then((info: Any) => {
    if (info?.reason !== 'destroyed') recordError(`device lost: ${info?.message ?? 'unknown reason'}`);
  });
  const g = globalThis as { navigator?: Record<string, unknown> };
  if (g.navigator) g.navigator.gpu = gpu;
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new mod.WebGPUBackend(device, adapter.info), 3);
  if (!(await tf.setBackend('webgpu')) || tf.getBackend() !== 'webgpu')
    throw new Error("tf.setBackend('webgpu') did not take");
  return limitsOf(device.limits);
}

const gib = (bytes: number | undefined): string =>
  bytes === undefined ? '?' : `${(bytes / 2 ** 30).toFixed(bytes >= 2 ** 30 ? 1 : 2)} GiB`;

/** The record stored as EngineInfo.adapter (and so in every run's config.json). */
function adapterRecord(
  facts: AdapterFacts,
  granted: Record<string, number>,
  c: { report: ChildReport; dawnLog: string; ms: number },
  opts: WebGpuOptions,
): Record<string, unknown> {
  let dawnNode = 'unknown';
  try {
    dawnNode = (req('webgpu/package.json') as { version: string }).version;
  } catch {
    /* keep unknown */
  }
  return {
    name: adapterName(facts),
    vendor: facts.vendor,
    architecture: facts.architecture,
    device: facts.device,
    driver: facts.description,
    backendType: facts.backendType,
    isFallbackAdapter: facts.isFallbackAdapter,
    ...(opts.allowCpuAdapter && classifyAdapter(facts).ok === false ? { cpuAdapterAllowedForTesting: true } : {}),
    subgroupMinSize: facts.subgroupMinSize,
    subgroupMaxSize: facts.subgroupMaxSize,
    features: facts.features,
    limits: facts.limits,
    requestedLimits: deviceLimits(facts.limits),
    deviceLimits: granted,
    probeMs: Math.round(c.ms),
    smokeMs: c.report.device?.ok ? Math.round(c.report.device.smokeMs) : undefined,
    vulkanLoader: findVulkanLoader(),
    vulkanIcds: findIcdManifests(),
    dawnWarnings: dawnWarnings(c.dawnLog),
    dawnNodePackage: dawnNode,
    flags: opts.flags,
  };
}

let active: Extract<WebGpuProbe, { ok: true }> | undefined;

/** The chain entry for backend.ts: starts tfjs' webgpu backend on a real GPU adapter, or says why not. */
export async function probeWebGpu(opts: WebGpuOptions = webGpuOptionsFromEnv()): Promise<WebGpuProbe> {
  if (active && tf.findBackend('webgpu')) {
    // switching back: same device, no second probe
    return (await tf.setBackend('webgpu'))
      ? active
      : { ok: false, detail: 'the tfjs webgpu backend started earlier no longer initialises' };
  }
  const chosen = await chooseAdapter(opts);
  if (!chosen.ok) return chosen;
  let granted: Record<string, number>;
  try {
    granted = await startTfjsWebGpu(opts, chosen.facts);
  } catch (e) {
    return {
      ok: false,
      detail: `the tfjs webgpu backend failed to start on '${adapterName(chosen.facts)}': ${String((e as Error)?.message ?? e).split('\n')[0]}`,
    };
  }
  const f = chosen.facts;
  const testing =
    opts.allowCpuAdapter && !classifyAdapter(f).ok
      ? ' — a CPU adapter, allowed by DETRLAB_WEBGPU_ALLOW_CPU=1 for testing only'
      : '';
  active = {
    ok: true,
    tfBackend: 'webgpu',
    adapter: adapterRecord(f, granted, chosen, opts),
    detail: `GPU adapter ${adapterName(f)} on ${f.backendType}, maxBufferSize ${gib(granted.maxBufferSize)}, maxStorageBufferBindingSize ${gib(granted.maxStorageBufferBindingSize)}${testing}`,
  };
  return active;
}
