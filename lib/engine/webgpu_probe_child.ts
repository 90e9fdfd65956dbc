/**
 * The WebGPU adapter probe, run as a child process by webgpu.ts (`node webgpu_probe_child.js
 * '<flags json>' <allowCpu 0|1>`), so that
 *  - a GPU driver that hangs in `requestAdapter` (Dawn enumerates adapters synchronously inside the
 *    call, which no Promise timeout can interrupt) is killed at the parent's deadline,
 *  - Dawn's and the Vulkan loader's warnings land in a pipe the parent turns into one clear line,
 *    instead of on the user's terminal.
 * Prints `DETRLAB_WEBGPU_PROBE <json>` (a ChildReport) on stdout: once with `pending: 'device'` as soon as an
 * accepted adapter is known, then the final report; the last such line counts. Also handy by hand:
 *   node dist/lib/engine/webgpu_probe_child.js '[]' 0
 */
import { createRequire } from 'node:module';
import { writeSync } from 'node:fs';
import { AdapterFacts, classifyAdapter, dawnBackendType, deviceLimits, limitsOf } from './webgpu_adapter.js';

export const PROBE_MARKER = 'DETRLAB_WEBGPU_PROBE ';

export interface ChildReport {
  /** False when Dawn returned no adapter (its reasons are on stderr). */
  found: boolean;
  facts?: AdapterFacts;
  /** Present when the adapter was accepted: a device with the raised limits ran a tiny compute shader. */
  device?: { ok: true; limits: Record<string, number>; smokeMs: number } | { ok: false; error: string };
  adapterMs: number;
  /** Set on the early report: the device / smoke test had not finished (a crash there leaves this last). */
  pending?: 'device';
}

/** One report line, written synchronously so that a crash right after cannot lose it. */
const report = (r: ChildReport): void => {
  writeSync(1, PROBE_MARKER + JSON.stringify(r) + '\n');
};

/** Dawn's objects, untyped here (@webgpu/types is not in the project's compile scope). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export function adapterFacts(adapter: Any, flags: string[]): AdapterFacts {
  const i = adapter.info ?? {};
  return {
    vendor: String(i.vendor ?? ''),
    architecture: String(i.architecture ?? ''),
    device: String(i.device ?? ''),
    description: String(i.description ?? ''),
    isFallbackAdapter: Boolean(i.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false),
    subgroupMinSize: i.subgroupMinSize,
    subgroupMaxSize: i.subgroupMaxSize,
    backendType: dawnBackendType(flags),
    features: [...(adapter.features ?? [])].map(String).sort(),
    limits: limitsOf(adapter.limits),
  };
}

/** Adds 1 to 256 floats on the GPU and checks the result: the driver compiles and runs a shader. */
async function smoke(device: Any, g: Any): Promise<void> {
  const n = 256,
    bytes = n * 4;
  const module = device.createShaderModule({
    code: `@group(0) @binding(0) var<storage, read_write> v: array<f32>;
    @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) { v[id.x] = v[id.x] + 1.0; }`,
  });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const data = device.createBuffer({
    size: bytes,
    usage: g.GPUBufferUsage.STORAGE | g.GPUBufferUsage.COPY_SRC | g.GPUBufferUsage.COPY_DST,
  });
  const read = device.createBuffer({ size: bytes, usage: g.GPUBufferUsage.MAP_READ | g.GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(
    data,
    0,
    Float32Array.from({ length: n }, (_, k) => k),
  );
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(
    0,
    device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: data } }],
    }),
  );
  pass.dispatchWorkgroups(n / 64);
  pass.end();
  enc.copyBufferToBuffer(data, 0, read, 0, bytes);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(g.GPUMapMode.READ);
  const out = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  const bad = out.findIndex((v, k) => v !== k + 1);
  if (bad >= 0) throw new Error(`compute smoke test read ${out[bad]} at ${bad}, expected ${bad + 1}`);
}

export async function probeChild(flags: string[], allowCpu: boolean): Promise<ChildReport> {
  const { create, globals } = createRequire(__filename)('webgpu') as {
    create: (f: string[]) => Any;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, globals);
  const t0 = performance.now();
  const adapter = await create(flags).requestAdapter({ powerPreference: 'high-performance' });
  const adapterMs = performance.now() - t0;
  if (!adapter) return { found: false, adapterMs };
  const facts = adapterFacts(adapter, flags);
  if (!classifyAdapter(facts, allowCpu).ok) return { found: true, facts, adapterMs };
  report({ found: true, facts, adapterMs, pending: 'device' });
  try {
    // Not destroyed: the process ends right after the report, and tearing Dawn down early crashes
    // SwiftShader's threads now and then (seen: SIGSEGV / std::system_error in device.destroy + exit).
    const device = await adapter.requestDevice({ requiredLimits: deviceLimits(facts.limits) });
    const t1 = performance.now();
    await smoke(device, globals);
    return {
      found: true,
      facts,
      adapterMs,
      device: { ok: true, limits: limitsOf(device.limits), smokeMs: performance.now() - t1 },
    };
  } catch (e) {
    return {
      found: true,
      facts,
      adapterMs,
      device: { ok: false, error: String((e as Error)?.message ?? e).split('\n')[0] },
    };
  }
}

if (require.main === module) {
  const flags = JSON.parse(process.argv[2] ?? '[]') as string[];
  probeChild(flags, process.argv[3] === '1').then(
    (r) => {
      report(r);
      process.exit(0);
    },
    (e) => {
      writeSync(2, `probe failed: ${(e as Error)?.message ?? e}\n`);
      process.exit(3);
    },
  );
}
