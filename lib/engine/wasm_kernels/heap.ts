/**
 * Access to the tfjs wasm backend's heap and its XNNPACK entry points, for detrlab's kernels.
 *
 * The backend keeps every float32 tensor in one WebAssembly heap; `dataIdMap` gives its byte offset.
 * `makeOutput(shape, dtype, byteOffset)` registers a *view*: a tensor id over memory that someone else
 * owns, so the C kernels (which address tensors by id) can read or write any contiguous region. A view is
 * released with `wasm.tfjs.disposeData(id)` (which also drops XNNPACK operators cached on that id) and
 * removed from `dataIdMap`; `backend.disposeData` would free the memory under it.
 *
 * The heap may grow (and its ArrayBuffer be replaced) on any allocation: read `heapF32(be)` again after
 * allocating, never keep it across a `Scratch.alloc` or a kernel call.
 */
import { backend_util, util, type DataId, type DataType, type TensorInfo } from '@tensorflow/tfjs-core';
import { bindSimd, type WasmMemory } from './simd.js';

interface TensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: DataType;
  refCount: number;
}
type CwrapArg = 'number' | 'array';
interface WasmModule {
  HEAPF32: Float32Array;
  asm?: { memory?: WasmMemory };
  tfjs: { disposeData(id: number): void };
  cwrap(name: string, ret: null, args: CwrapArg[]): (...args: Array<number | Uint8Array>) => void;
}
/** The parts of tfjs-backend-wasm's `BackendWasm` that detrlab uses (it exports no types for them). */
export interface WasmBackend {
  wasm: WasmModule;
  dataIdMap: { get(d: DataId): TensorData; delete(d: DataId): boolean };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  disposeData(d: DataId, force?: boolean): boolean;
}

/** The heap as floats (with detrlab's SIMD loops bound to it, see simd.ts). */
export function heapF32(be: WasmBackend): Float32Array {
  const h = be.wasm.HEAPF32;
  bindSimd(h, be.wasm.asm?.memory);
  return h;
}
/** Float index of a tensor's first element in `heapF32(be)`. */
export const f32Offset = (be: WasmBackend, t: TensorInfo): number => be.dataIdMap.get(t.dataId).memoryOffset >>> 2;
const tensorId = (be: WasmBackend, t: TensorInfo): number => be.dataIdMap.get(t.dataId).id;
export const numel = (shape: readonly number[]): number => util.sizeFromShape(shape as number[]);

/**
 * Temporary tensors and views of one kernel call; everything is released by `dispose()` except the
 * outputs made with `output()` (those go to the caller, or are freed too if the kernel throws).
 */
export class Scratch {
  private readonly owned: TensorInfo[] = [];
  private readonly views: TensorInfo[] = [];
  private readonly outputs: TensorInfo[] = [];
  constructor(readonly be: WasmBackend) {}

  /** A new float32 buffer (uninitialised), freed at the end of the call. */
  alloc(shape: number[]): TensorInfo {
    return this.track(this.owned, this.be.makeOutput(shape, 'float32'));
  }
  /** The kernel's result buffer (uninitialised). */
  output(shape: number[], dtype: DataType = 'float32'): TensorInfo {
    return this.track(this.outputs, this.be.makeOutput(shape, dtype));
  }
  /** A tensor id over `numel(shape)` floats of the heap starting at float index `f32Index`. */
  view(f32Index: number, shape: number[]): TensorInfo {
    return this.track(this.views, this.be.makeOutput(shape, 'float32', f32Index * 4));
  }

  /** Float index of `t` in `heapF32`. */
  at(t: TensorInfo): number {
    return f32Offset(this.be, t);
  }
  /** Sets every element of `t` to 0. */
  zero(t: TensorInfo): void {
    const at = this.at(t);
    heapF32(this.be).fill(0, at, at + numel(t.shape));
  }
  /** Frees a temporary made by `alloc` now rather than at the end of the call. */
  free(t: TensorInfo): void {
    const i = this.owned.indexOf(t);
    if (i < 0) throw new Error('Scratch.free: not a temporary of this call');
    this.owned.splice(i, 1);
    this.be.disposeData(t.dataId);
  }

  /** Releases a view now (and the XNNPACK operator cached on its id, with its packed weights). */
  release(v: TensorInfo): void {
    const i = this.views.indexOf(v);
    if (i < 0) throw new Error('Scratch.release: not a view of this call');
    this.views.splice(i, 1);
    this.unregister(v);
  }

  private unregister(v: TensorInfo): void {
    this.be.wasm.tfjs.disposeData(tensorId(this.be, v));
    this.be.dataIdMap.delete(v.dataId);
  }

  private track(list: TensorInfo[], t: TensorInfo): TensorInfo {
    list.push(t);
    return t;
  }

  /** Releases views and temporaries; on failure (`ok` false) the outputs too. */
  dispose(ok: boolean): void {
    for (const v of this.views) this.unregister(v);
    for (const t of ok ? this.owned : [...this.owned, ...this.outputs]) this.be.disposeData(t.dataId);
    this.views.length = 0;
    this.owned.length = 0;
  }
}

/** Runs `fn` with a Scratch that is cleaned up however `fn` ends. */
export function withScratch<T>(be: WasmBackend, fn: (s: Scratch) => T): T {
  const s = new Scratch(be);
  let ok = false;
  try {
    const r = fn(s);
    ok = true;
    return r;
  } finally {
    s.dispose(ok);
  }
}

type RawFn = (...a: Array<number | Uint8Array>) => void;
interface RawEntryPoints {
  fusedMatMul: RawFn;
  conv2d: RawFn;
}
const raw = new WeakMap<WasmBackend, RawEntryPoints>();
function entryPoints(be: WasmBackend): RawEntryPoints {
  let r = raw.get(be);
  if (!r) {
    r = {
      // Same signatures as tfjs-backend-wasm's kernels/_FusedMatMul.js and kernels/Conv2D.js.
      fusedMatMul: be.wasm.cwrap('_FusedMatMul', null, [
        'number',
        'array',
        'number',
        'number',
        'array',
        'number',
        ...new Array<CwrapArg>(7).fill('number'),
      ]),
      conv2d: be.wasm.cwrap('Conv2D', null, new Array<CwrapArg>(19).fill('number')),
    };
    raw.set(be, r);
  }
  return r;
}
const shapeBytes = (s: number[]): Uint8Array => new Uint8Array(new Int32Array(s).buffer);

/** Activations XNNPACK applies as an output clamp (tfjs-backend-wasm's FusableActivation codes). */
export const CLAMP_ACTIVATIONS = { linear: 0, relu: 1, relu6: 2 } as const;
export type ClampActivation = keyof typeof CLAMP_ACTIVATIONS;

/**
 * out[M,N] = act(a[M,K] · b[K,N] + bias) through XNNPACK's fully connected operator (tfjs' fast path:
 * batch 1, no transposes). Operands are tensors of this backend holding at least M·K, K·N and M·N
 * floats; XNNPACK caches the packed `b` under b's tensor id (with bias and activation), so a tensor
 * that is used again is not re-packed, while a fresh id costs a packing pass (3–10 ns per element).
 */
export function fcRaw(
  s: Scratch,
  a: TensorInfo,
  b: TensorInfo,
  out: TensorInfo,
  M: number,
  K: number,
  N: number,
  bias: TensorInfo | null = null,
  activation: ClampActivation = 'linear',
): void {
  entryPoints(s.be).fusedMatMul(
    tensorId(s.be, a),
    shapeBytes([1, M, K]),
    3,
    tensorId(s.be, b),
    shapeBytes([1, K, N]),
    3,
    0,
    0,
    CLAMP_ACTIVATIONS[activation],
    bias ? tensorId(s.be, bias) : 0,
    0,
    0,
    tensorId(s.be, out),
  );
}

/** `fcRaw` on heap regions given by float index (through temporary views: `b` is always re-packed). */
export function gemmRaw(s: Scratch, a: number, b: number, out: number, M: number, K: number, N: number): void {
  const av = s.view(a, [M, K]),
    bv = s.view(b, [K, N]),
    ov = s.view(out, [M, N]);
  fcRaw(s, av, bv, ov, M, K, N);
  for (const v of [av, bv, ov]) s.release(v);
}

export interface ExplicitPad {
  top: number;
  bottom: number;
  left: number;
  right: number;
}
/**
 * XNNPACK convolution (NHWC, dilation 1) of `x` with `filter` [kh,kw,ci,co] into `out`, which must hold
 * [B, (H+top+bottom-kh)/sh+1, …, co] floats. Tensors are TensorInfos of this backend (views allowed).
 */
export function conv2dRaw(
  s: Scratch,
  x: TensorInfo,
  filter: TensorInfo,
  out: TensorInfo,
  pad: ExplicitPad,
  strides: [number, number],
): void {
  const [B, H, W, ci] = x.shape,
    [kh, kw, , co] = filter.shape;
  entryPoints(s.be).conv2d(
    tensorId(s.be, x),
    B,
    H,
    W,
    tensorId(s.be, filter),
    kh,
    kw,
    pad.top,
    pad.right,
    pad.bottom,
    pad.left,
    0,
    1,
    1,
    strides[0],
    strides[1],
    ci,
    co,
    tensorId(s.be, out),
  );
}

/** Conv geometry of a Conv2DBackprop* call (NHWC only; dilation 1, as tfjs' conv2d gradient requires). */
export function convGeometry(
  xShape: number[],
  filterShape: number[],
  attrs: { strides: number | [number, number]; pad: unknown; dataFormat?: string; dimRoundingMode?: string },
): backend_util.Conv2DInfo {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC')
    throw new Error(`detrlab wasm conv gradients support NHWC only, got ${attrs.dataFormat}`);
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad as 'same',
    attrs.dimRoundingMode as 'floor' | undefined,
    false,
    'channelsLast',
  );
}
