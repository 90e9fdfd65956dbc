/**
 * What a WebGPU adapter is and whether detrlab will train on it — pure functions over plain facts, so
 * the rules are tested on fake adapters (tests/engine/webgpu.test.ts) and the probe stays thin.
 *
 * Facts come from Dawn's Node binding (`webgpu` npm package): `GPUAdapterInfo` has vendor,
 * architecture, device, description (Dawn puts the driver name and version there), subgroup sizes and
 * isFallbackAdapter (true for Dawn's `AdapterType::CPU`); `GPUSupportedLimits` holds the limits. Dawn
 * does not expose the backend type to JS; on Linux it only ever uses Vulkan unless `DAWNNODE_BACKEND`
 * or a `backend=` flag says otherwise (google/dawn `src/dawn/node/binding/GPU.cpp`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface AdapterFacts {
  vendor: string;
  architecture: string;
  device: string;
  /** Driver name and version on Vulkan, e.g. `NVIDIA: 550.54.15` or `SwiftShader driver 5.0.0`. */
  description: string;
  isFallbackAdapter: boolean;
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
  /** `vulkan`, `metal`, `d3d12`, … (see the header). */
  backendType: string;
  features: string[];
  /** Every numeric limit the adapter reports. */
  limits: Record<string, number>;
}

/** Software rasterisers that present themselves as Vulkan devices (names as their drivers report them). */
export const CPU_ADAPTER_PATTERN = /swiftshader|llvmpipe|lavapipe|softpipe|software rasterizer|microsoft basic render/i;

/**
 * Limits requested at their adapter maximum when the device is created. The first six are the ones
 * @tensorflow/tfjs-backend-webgpu's own factory requests (dist/base.js); the storage-buffer count
 * matters for kernels with many inputs (AddN, Concat), the workgroup sizes for tfjs' matmul tiles.
 * Without them a device gets WebGPU's defaults (128 MiB per storage binding, 256 MiB per buffer), too
 * small for a DETR-R50 step at 800×1066 (one [2, 200, 267, 256] f32 activation is 109 MB).
 */
export const REQUESTED_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxStorageBuffersPerShaderStage',
] as const;

/** Every own or inherited numeric property of a `GPUSupportedLimits` (accessors on its prototype, enumerable or not). */
export function limitsOf(limits: object | null | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (let o = limits; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const k of Object.getOwnPropertyNames(o)) {
      const v = k in out || k === 'constructor' ? undefined : (limits as Record<string, unknown>)[k];
      if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    }
  }
  return out;
}

/** The `requiredLimits` for `requestDevice`: each of REQUESTED_LIMITS at the adapter's value, where reported. */
export function deviceLimits(adapterLimits: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of REQUESTED_LIMITS) if (typeof adapterLimits[k] === 'number') out[k] = adapterLimits[k];
  return out;
}

/** `nvidia NVIDIA GeForce RTX 4090 (NVIDIA: 550.54.15)` — one line for logs. */
export function adapterName(f: Pick<AdapterFacts, 'vendor' | 'device' | 'architecture' | 'description'>): string {
  const name = [f.vendor, f.device || f.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
  return f.description ? `${name} (${f.description})` : name;
}

/** Accepts only a real GPU: refuses Dawn's fallback (CPU) adapters and known software rasterisers. */
export function classifyAdapter(f: AdapterFacts, allowCpu = false): { ok: true } | { ok: false; reason: string } {
  const text = `${f.vendor} ${f.architecture} ${f.device} ${f.description}`;
  const software = f.isFallbackAdapter || CPU_ADAPTER_PATTERN.test(text);
  if (software && !allowCpu) {
    return {
      ok: false,
      reason: `refusing the CPU adapter '${adapterName(f)}': a software rasteriser, slower than the wasm backend (install a GPU's Vulkan driver; see docs/gpu.md)`,
    };
  }
  return { ok: true };
}

/**
 * One clear reason from Dawn's own warnings (captured from the probe child's stderr) when it found no
 * adapter. The messages are Dawn's (src/dawn/native/vulkan/BackendVk.cpp, PhysicalDeviceVk.cpp) and the
 * Vulkan loader's, as printed by the `webgpu` 0.6 package.
 */
export function explainNoAdapter(dawnLog: string): string {
  const required = /Vulkan ([^\n]*?) required/.exec(dawnLog);
  if (/Couldn't load Vulkan|libvulkan\.so\.1: cannot open/.test(dawnLog)) {
    return 'no Vulkan loader (libvulkan.so.1) could be loaded; install libvulkan1 and the GPU driver (docs/gpu.md)';
  }
  if (/Found no drivers|VK_ERROR_INCOMPATIBLE_DRIVER/.test(dawnLog)) {
    return "the Vulkan loader found no Vulkan driver (no ICD manifest for a GPU); install the GPU driver's Vulkan part — in a container, NVIDIA_DRIVER_CAPABILITIES must include graphics (docs/gpu.md)";
  }
  if (required) {
    return `the Vulkan driver is too old or lacks what Dawn needs (Dawn: "Vulkan ${required[1]} required"); update the GPU driver (docs/gpu.md)`;
  }
  const first = dawnLog
    .split('\n')
    .map((l) => l.replace(/^Warning:\s*/, '').trim())
    .find((l) => l && !l.startsWith('at ') && !l.startsWith('- '));
  return `Dawn found no GPU adapter${first ? ` (Dawn: "${first}")` : ''}; a Vulkan driver for a real GPU is needed (docs/gpu.md)`;
}

/** Folders the dynamic loader searches for libvulkan.so.1 (LD_LIBRARY_PATH first, then the usual ones). */
export function loaderSearchDirs(env: NodeJS.ProcessEnv = process.env, arch: string = process.arch): string[] {
  const triplet = arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  return [
    ...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    `/usr/lib/${triplet}`,
    `/lib/${triplet}`,
    '/usr/lib64',
    '/lib64',
    '/usr/lib',
    '/usr/local/lib',
  ];
}

/** Path of the Vulkan loader, `n/a` where Dawn uses another API (macOS, Windows), undefined when missing. */
export function findVulkanLoader(
  env: NodeJS.ProcessEnv = process.env,
  platform: string = process.platform,
  exists: (f: string) => boolean = fs.existsSync,
): string | undefined {
  if (platform !== 'linux') return 'n/a';
  return loaderSearchDirs(env)
    .map((d) => path.join(d, 'libvulkan.so.1'))
    .find(exists);
}

/** Vulkan ICD manifests (drivers) the loader would read: VK_DRIVER_FILES / VK_ICD_FILENAMES, or the standard folders. */
export function findIcdManifests(env: NodeJS.ProcessEnv = process.env): string[] {
  const explicit = env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES;
  if (explicit) return explicit.split(':').filter(Boolean);
  const dirs = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  return dirs.flatMap((d) => {
    try {
      return fs
        .readdirSync(d)
        .filter((f) => f.endsWith('.json'))
        .map((f) => path.join(d, f));
    } catch {
      return [];
    }
  });
}

/** Dawn's backend on this platform: a `backend=` flag, DAWNNODE_BACKEND, or the platform default. */
export function dawnBackendType(
  flags: string[],
  env: NodeJS.ProcessEnv = process.env,
  platform: string = process.platform,
): string {
  const flag = flags.find((f) => f.startsWith('backend='))?.slice('backend='.length) || env.DAWNNODE_BACKEND;
  if (flag) return flag.toLowerCase();
  return platform === 'win32' ? 'd3d12' : platform === 'darwin' ? 'metal' : 'vulkan';
}
