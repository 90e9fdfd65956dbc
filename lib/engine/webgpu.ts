/**
 * WebGPU through Dawn's Node binding (`webgpu` npm package) for @tensorflow/tfjs-backend-webgpu.
 * Only a real GPU adapter is accepted: CPU/software adapters (SwiftShader, lavapipe) are refused.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';

const req = createRequire(__filename);

export type WebGpuProbe = { ok: true; detail: string; tfBackend: string; adapter: Record<string, unknown> } | { ok: false; detail: string };

interface AdapterInfoLike { vendor?: string; architecture?: string; device?: string; description?: string; adapterType?: string; backendType?: string; driverDescription?: string }

export async function probeWebGpu(): Promise<WebGpuProbe> {
  if (process.env.DETRLAB_NO_WEBGPU === '1') return { ok: false, detail: 'disabled by DETRLAB_NO_WEBGPU=1' };
  const loader = findVulkanLoader();
  if (!loader) return { ok: false, detail: 'no Vulkan loader (libvulkan.so.1) on this machine; install the GPU driver and libvulkan1' };
  let dawn: { create: (flags: string[]) => unknown; globals: Record<string, unknown> };
  try {
    dawn = req('webgpu');
  } catch (e) {
    return { ok: false, detail: `the webgpu package (Dawn) failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
  let gpu: { requestAdapter: (o?: object) => Promise<unknown> };
  try {
    Object.assign(globalThis, dawn.globals);
    gpu = dawn.create([]) as typeof gpu;
  } catch (e) {
    return { ok: false, detail: `Dawn could not start: ${(e as Error).message.split('\n')[0]}` };
  }
  let adapter: { info?: AdapterInfoLike; isFallbackAdapter?: boolean; limits?: Record<string, number>; features?: Set<string> } | null;
  try {
    adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' })) as typeof adapter;
  } catch (e) {
    return { ok: false, detail: `no WebGPU adapter (${(e as Error).message.split('\n')[0]}); a Vulkan driver for a real GPU is needed` };
  }
  if (!adapter) return { ok: false, detail: 'Dawn found no GPU adapter (no Vulkan driver for a real GPU, or the driver is too old)' };
  const info = adapter.info ?? {};
  const isCpu = adapter.isFallbackAdapter || /cpu/i.test(info.adapterType ?? '') || /swiftshader|llvmpipe|lavapipe/i.test(`${info.description} ${info.device} ${info.architecture}`);
  const details: Record<string, unknown> = { ...info, isFallbackAdapter: adapter.isFallbackAdapter ?? false, limits: limitsOf(adapter.limits) };
  if (isCpu) return { ok: false, detail: `refusing the CPU adapter '${info.description || info.device || 'software'}' (not a real GPU)` };
  const nav = ((globalThis as { navigator?: Record<string, unknown> }).navigator ??= {});
  nav.gpu = gpu;
  try {
    req('@tensorflow/tfjs-backend-webgpu');
    const ok = await tf.setBackend('webgpu');
    if (!ok || tf.getBackend() !== 'webgpu') return { ok: false, detail: 'the tfjs webgpu backend did not initialise' };
  } catch (e) {
    return { ok: false, detail: `the tfjs webgpu backend failed: ${(e as Error).message.split('\n')[0]}` };
  }
  const name = [info.vendor, info.device || info.description, info.architecture].filter(Boolean).join(' ');
  return { ok: true, detail: `GPU adapter ${name || 'unknown'}${info.driverDescription ? `, driver ${info.driverDescription}` : ''}`, tfBackend: 'webgpu', adapter: details };
}

function limitsOf(l: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!l) return out;
  for (const k of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup']) {
    const v = (l as Record<string, number>)[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

/** Dawn needs the Vulkan loader on Linux; looking first keeps Dawn's own warnings out of the log. */
function findVulkanLoader(): string | undefined {
  if (process.platform !== 'linux') return 'n/a';
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/lib/x86_64-linux-gnu'];
  return dirs.map((d) => `${d}/libvulkan.so.1`).find((f) => fs.existsSync(f));
}
