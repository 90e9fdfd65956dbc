/**
 * WebAssembly SIMD loops that run on the tfjs wasm backend's own memory (imported, so no copies):
 *   transpose4(src, ld, dst, R, C): dst[c·R + r] = src[r·ld + c] for the 4-aligned part (R&~3 × C&~3),
 *     in 4×4 register tiles (8 lane shuffles per 16 floats), 64-column strips for cache locality;
 *   addInto(src, dst, n): dst[i] += src[i];
 *   adamw(p, m, v, g, out, n, β1, 1−β1, β2, 1−β2, √(1−β2ᵗ), eps, step, scale, decay): one AdamW update of
 *     the 4-aligned part (n&~3), see adamw.ts;
 *   maxPoolGradPixel(xw, rowB, ni, nj, CB, dy, delta): one output pixel of MaxPoolGrad, see pool_grad.ts.
 * Addresses are byte offsets into the heap. JavaScript loops over the heap run at 3–6 ns per element on
 * the development machine; these at a fraction of that (bench/engine.ts prints both).
 *
 * The module is assembled here from opcodes rather than shipped as a binary blob, so it can be read and
 * reviewed: see `transposeBody` and `addBody` for the code, in WebAssembly's stack-machine order.
 */

/** The WebAssembly API surface used here (the project's TypeScript libs do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

// ---- a minimal WebAssembly encoder (only what the two functions need) --------------------------
const uleb = (n: number): number[] => {
  const o: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    o.push(b);
  } while (n);
  return o;
};
const sleb = (n: number): number[] => {
  const o: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      o.push(b);
      return o;
    }
    o.push(b | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const str = (s: string): number[] => vec([...Buffer.from(s, 'utf8')].map((b) => [b]));
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

const I32 = 0x7f,
  F32 = 0x7d,
  V128 = 0x7b;
const get = (i: number): number[] => [0x20, ...uleb(i)],
  set = (i: number): number[] => [0x21, ...uleb(i)];
const i32 = (n: number): number[] => [0x41, ...sleb(n)];
const ADD = [0x6a],
  MUL = [0x6c],
  AND = [0x71],
  GE_U = [0x4f],
  LT_U = [0x49],
  SELECT = [0x1b];
const v128Load = (off = 0): number[] => [0xfd, 0x00, 0x00, ...uleb(off)];
const v128Store = (off = 0): number[] => [0xfd, 0x0b, 0x00, ...uleb(off)];
const F32X4_ADD = [0xfd, 0xe4, 0x01],
  F32X4_SUB = [0xfd, 0xe5, 0x01],
  F32X4_MUL = [0xfd, 0xe6, 0x01],
  F32X4_DIV = [0xfd, 0xe7, 0x01],
  F32X4_SQRT = [0xfd, 0xe3, 0x01],
  F32X4_SPLAT = [0xfd, 0x13],
  F32X4_GT = [0xfd, 0x44],
  I32X4_SPLAT = [0xfd, 0x11],
  I32X4_ADD = [0xfd, 0xae, 0x01],
  BITSELECT = [0xfd, 0x52],
  NE = [0x47];
const i32x4Lane = (lane: number): number[] => [0xfd, 0x1b, lane];
/** v128.const of four i32 lanes (little-endian). */
const v128Const = (lanes: number[]): number[] => [
  0xfd,
  0x0c,
  ...lanes.flatMap((x) => [x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff]),
];
/** if (cond on the stack) { body } */
const ifThen = (body: number[]): number[] => [0x04, 0x40, ...body, 0x0b];
const f32Load = [0x2a, 0x02, 0x00],
  f32Store = [0x38, 0x02, 0x00],
  F32_ADD = [0x92];
/** i8x16.shuffle picking four 32-bit lanes from the 8 lanes of two vectors. */
const shuffle32 = (l: number[]): number[] => [
  0xfd,
  0x0d,
  ...l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]),
];
/** while (local[i] < local[end]) { body; local[i] += step } */
const forLoop = (i: number, end: number, step: number[], body: number[]): number[] => [
  0x02,
  0x40,
  0x03,
  0x40,
  ...get(i),
  ...get(end),
  ...GE_U,
  0x0d,
  0x01,
  ...body,
  ...get(i),
  ...step,
  ...ADD,
  ...set(i),
  0x0c,
  0x00,
  0x0b,
  0x0b,
];

// ---- transpose4(src, ld, dst, R, C) ---------------------------------------------------------------
// locals: 0 src 1 ld 2 dst 3 R 4 C | 5 R4 6 C4 7 strip 8 stripEnd 9 r 10 c 11 s 12 d 13 ldB 14 RB | 15–18 v128 a b c d
const STRIP = 64;
function transposeBody(): number[] {
  const [src, ld, dst, R, C, R4, C4, strip, stripEnd, r, c, s, d, ldB, RB, a, b, cc, dd] = Array.from(
    { length: 19 },
    (_, k) => k,
  );
  const tile = [
    // s = src + (r·ld + c)·4 ; d = dst + (c·R + r)·4
    ...get(r),
    ...get(ld),
    ...MUL,
    ...get(c),
    ...ADD,
    ...i32(4),
    ...MUL,
    ...get(src),
    ...ADD,
    ...set(s),
    ...get(c),
    ...get(R),
    ...MUL,
    ...get(r),
    ...ADD,
    ...i32(4),
    ...MUL,
    ...get(dst),
    ...ADD,
    ...set(d),
    ...get(s),
    ...v128Load(),
    ...set(a),
    ...get(s),
    ...get(ldB),
    ...ADD,
    ...v128Load(),
    ...set(b),
    ...get(s),
    ...get(ldB),
    ...i32(2),
    ...MUL,
    ...ADD,
    ...v128Load(),
    ...set(cc),
    ...get(s),
    ...get(ldB),
    ...i32(3),
    ...MUL,
    ...ADD,
    ...v128Load(),
    ...set(dd),
    // columns: col0 = a0 b0 c0 d0 … ; t0 = a0 b0 a1 b1, t1 = a2 b2 a3 b3, t2 = c0 d0 c1 d1, t3 = c2 d2 c3 d3
    ...get(d),
    ...get(a),
    ...get(b),
    ...shuffle32([0, 4, 1, 5]),
    ...get(cc),
    ...get(dd),
    ...shuffle32([0, 4, 1, 5]),
    ...shuffle32([0, 1, 4, 5]),
    ...v128Store(),
    ...get(d),
    ...get(RB),
    ...ADD,
    ...get(a),
    ...get(b),
    ...shuffle32([0, 4, 1, 5]),
    ...get(cc),
    ...get(dd),
    ...shuffle32([0, 4, 1, 5]),
    ...shuffle32([2, 3, 6, 7]),
    ...v128Store(),
    ...get(d),
    ...get(RB),
    ...i32(2),
    ...MUL,
    ...ADD,
    ...get(a),
    ...get(b),
    ...shuffle32([2, 6, 3, 7]),
    ...get(cc),
    ...get(dd),
    ...shuffle32([2, 6, 3, 7]),
    ...shuffle32([0, 1, 4, 5]),
    ...v128Store(),
    ...get(d),
    ...get(RB),
    ...i32(3),
    ...MUL,
    ...ADD,
    ...get(a),
    ...get(b),
    ...shuffle32([2, 6, 3, 7]),
    ...get(cc),
    ...get(dd),
    ...shuffle32([2, 6, 3, 7]),
    ...shuffle32([2, 3, 6, 7]),
    ...v128Store(),
  ];
  const stripBody = [
    // stripEnd = min(strip + STRIP, C4)
    ...get(strip),
    ...i32(STRIP),
    ...ADD,
    ...get(C4),
    ...get(strip),
    ...i32(STRIP),
    ...ADD,
    ...get(C4),
    ...LT_U,
    ...SELECT,
    ...set(stripEnd),
    ...i32(0),
    ...set(r),
    ...forLoop(r, R4, i32(4), [...get(strip), ...set(c), ...forLoop(c, stripEnd, i32(4), tile)]),
  ];
  return [
    ...get(R),
    ...i32(-4),
    ...AND,
    ...set(R4),
    ...get(C),
    ...i32(-4),
    ...AND,
    ...set(C4),
    ...get(ld),
    ...i32(4),
    ...MUL,
    ...set(ldB),
    ...get(R),
    ...i32(4),
    ...MUL,
    ...set(RB),
    ...i32(0),
    ...set(strip),
    ...forLoop(strip, C4, i32(STRIP), stripBody),
  ];
}
const TRANSPOSE_LOCALS = [
  [10, I32],
  [4, V128],
];

// ---- addInto(src, dst, n) ---------------------------------------------------------------------------
// locals: 0 src 1 dst 2 n | 3 i (bytes) 4 n4B 5 nB
function addBody(): number[] {
  const [src, dst, n, i, n4B, nB] = [0, 1, 2, 3, 4, 5];
  const at = (base: number): number[] => [...get(base), ...get(i), ...ADD];
  return [
    ...get(n),
    ...i32(-4),
    ...AND,
    ...i32(4),
    ...MUL,
    ...set(n4B),
    ...get(n),
    ...i32(4),
    ...MUL,
    ...set(nB),
    ...forLoop(i, n4B, i32(16), [
      ...at(dst),
      ...at(dst),
      ...v128Load(),
      ...at(src),
      ...v128Load(),
      ...F32X4_ADD,
      ...v128Store(),
    ]),
    ...forLoop(i, nB, i32(4), [...at(dst), ...at(dst), ...f32Load, ...at(src), ...f32Load, ...F32_ADD, ...f32Store]),
  ];
}
const ADD_LOCALS = [[3, I32]];

// ---- adamw(p, m, v, g, out, n, b1, c1, b2, c2, bc2, eps, step, scale, decay) -----------------------------
// locals: 0–5 i32 p m v g out n | 6–14 f32 scalars | 15 i (bytes) 16 n4B | 17–25 v128 splats 26–29 v128 g m v den
// Per lane, each an IEEE float32 operation (correctly rounded, as tfjs' per-op form computes it):
//   g' = g·scale; m' = m·b1 + g'·c1; v' = v·b2 + (g'·g')·c2; den = √v' / bc2 + eps; out = p·decay − (m'/den)·step
function adamwBody(): number[] {
  const [p, m, v, g, out, n] = [0, 1, 2, 3, 4, 5];
  const [i, n4B] = [15, 16];
  const splat = (k: number): number => 17 + k; // of scalar 6 + k
  const [sB1, sC1, sB2, sC2, sBc2, sEps, sStep, sScale, sDecay] = Array.from({ length: 9 }, (_, k) => splat(k));
  const [vg, vm, vv, vden] = [26, 27, 28, 29];
  const at = (base: number): number[] => [...get(base), ...get(i), ...ADD];
  return [
    ...Array.from({ length: 9 }, (_, k) => [...get(6 + k), ...F32X4_SPLAT, ...set(splat(k))]).flat(),
    ...get(n),
    ...i32(-4),
    ...AND,
    ...i32(4),
    ...MUL,
    ...set(n4B),
    ...forLoop(i, n4B, i32(16), [
      ...at(g),
      ...v128Load(),
      ...get(sScale),
      ...F32X4_MUL,
      ...set(vg),
      ...at(m),
      ...v128Load(),
      ...get(sB1),
      ...F32X4_MUL,
      ...get(vg),
      ...get(sC1),
      ...F32X4_MUL,
      ...F32X4_ADD,
      ...set(vm),
      ...at(v),
      ...v128Load(),
      ...get(sB2),
      ...F32X4_MUL,
      ...get(vg),
      ...get(vg),
      ...F32X4_MUL,
      ...get(sC2),
      ...F32X4_MUL,
      ...F32X4_ADD,
      ...set(vv),
      ...get(vv),
      ...F32X4_SQRT,
      ...get(sBc2),
      ...F32X4_DIV,
      ...get(sEps),
      ...F32X4_ADD,
      ...set(vden),
      ...at(m),
      ...get(vm),
      ...v128Store(),
      ...at(v),
      ...get(vv),
      ...v128Store(),
      ...at(out),
      ...at(p),
      ...v128Load(),
      ...get(sDecay),
      ...F32X4_MUL,
      ...get(vm),
      ...get(vden),
      ...F32X4_DIV,
      ...get(sStep),
      ...F32X4_MUL,
      ...F32X4_SUB,
      ...v128Store(),
    ]),
  ];
}
const ADAMW_LOCALS = [
  [2, I32],
  [13, V128],
];

// ---- maxPoolGradPixel(xw, rowB, ni, nj, CB, dy, delta) ------------------------------------------------------
// One output pixel of MaxPoolGrad, all channels (CB = 4·C bytes, C a multiple of 4), in 4-channel vectors:
//   for each 4 channels: scan the ni × nj window (row stride rowB bytes, pixel stride CB) in row-major order,
//   keeping per lane the largest value and its byte address (strictly greater replaces: the first maximum wins;
//   start −∞ / −1, so a NaN never wins); then dx[address + delta] += dy[channel] for each lane that found one.
// locals: 0–6 i32 params | 7 c 8 i 9 j 10 addr 11 a 12 jEnd 13 rowAddr | 14–18 v128 best arg v m lanes
function poolGradBody(): number[] {
  const [xw, rowB, ni, nj, CB, dy, delta] = [0, 1, 2, 3, 4, 5, 6];
  const [c, i, j, addr, a, jEnd, rowAddr] = [7, 8, 9, 10, 11, 12, 13];
  const [best, arg, v, m, lanes] = [14, 15, 16, 17, 18];
  const NEG_INF = 0xff800000;
  const window = [
    ...get(rowAddr),
    ...get(j),
    ...ADD,
    ...set(addr),
    ...get(addr),
    ...v128Load(),
    ...set(v),
    ...get(v),
    ...get(best),
    ...F32X4_GT,
    ...set(m),
    ...get(v),
    ...get(best),
    ...get(m),
    ...BITSELECT,
    ...set(best),
    ...get(addr),
    ...I32X4_SPLAT,
    ...get(lanes),
    ...I32X4_ADD,
    ...get(arg),
    ...get(m),
    ...BITSELECT,
    ...set(arg),
  ];
  const row = [
    // rowAddr = xw + c + i·rowB
    ...get(xw),
    ...get(c),
    ...ADD,
    ...get(i),
    ...get(rowB),
    ...MUL,
    ...ADD,
    ...set(rowAddr),
    ...i32(0),
    ...set(j),
    ...forLoop(j, jEnd, get(CB), window),
  ];
  const scatter = (lane: number): number[] => [
    ...get(arg),
    ...i32x4Lane(lane),
    ...set(a),
    ...get(a),
    ...i32(-1),
    ...NE,
    ...ifThen([
      ...get(a),
      ...get(delta),
      ...ADD,
      ...get(a),
      ...get(delta),
      ...ADD,
      ...f32Load,
      ...get(dy),
      ...get(c),
      ...ADD,
      ...i32(4 * lane),
      ...ADD,
      ...f32Load,
      ...F32_ADD,
      ...f32Store,
    ]),
  ];
  const group = [
    ...v128Const([NEG_INF, NEG_INF, NEG_INF, NEG_INF]),
    ...set(best),
    ...i32(-1),
    ...I32X4_SPLAT,
    ...set(arg),
    ...i32(0),
    ...set(i),
    ...forLoop(i, ni, i32(1), row),
    ...scatter(0),
    ...scatter(1),
    ...scatter(2),
    ...scatter(3),
  ];
  return [
    ...v128Const([0, 4, 8, 12]),
    ...set(lanes),
    ...get(nj),
    ...get(CB),
    ...MUL,
    ...set(jEnd),
    ...i32(0),
    ...set(c),
    ...forLoop(c, CB, i32(16), group),
  ];
}
const POOL_GRAD_LOCALS = [
  [7, I32],
  [5, V128],
];

function moduleBytes(): Uint8Array {
  const fn = (locals: number[][], body: number[]): number[] => {
    const b = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...body, 0x0b];
    return [...uleb(b.length), ...b];
  };
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(
      1,
      vec([
        [0x60, ...vec(Array(5).fill([I32])), 0x00],
        [0x60, ...vec(Array(3).fill([I32])), 0x00],
        [0x60, ...vec([...Array(6).fill([I32]), ...Array(9).fill([F32])]), 0x00],
        [0x60, ...vec(Array(7).fill([I32])), 0x00],
      ]),
    ),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x00]])),
    ...section(3, vec([[0], [1], [2], [3]])),
    ...section(
      7,
      vec([
        [...str('transpose4'), 0x00, 0x00],
        [...str('addInto'), 0x00, 0x01],
        [...str('adamw'), 0x00, 0x02],
        [...str('maxPoolGradPixel'), 0x00, 0x03],
      ]),
    ),
    ...section(
      10,
      vec([
        fn(TRANSPOSE_LOCALS, transposeBody()),
        fn(ADD_LOCALS, addBody()),
        fn(ADAMW_LOCALS, adamwBody()),
        fn(POOL_GRAD_LOCALS, poolGradBody()),
      ]),
    ),
  ]);
}

/** Heap views (Float32Array over the memory's current buffer) → their loops; filled by `bindSimd`. */
const byBuffer = new WeakMap<ArrayBufferLike, SimdLoops | null>();
/** Makes the loops for `memory` findable from `h`, a view of its current buffer. */
export function bindSimd(h: Float32Array, memory: WasmMemory | undefined): void {
  if (!byBuffer.has(h.buffer)) byBuffer.set(h.buffer, simdLoops(memory));
}
/** The loops for the memory under `h`, if bound (null: use JavaScript). */
export const simdFor = (h: Float32Array): SimdLoops | null => (enabled ? (byBuffer.get(h.buffer) ?? null) : null);
let enabled = true;
/** Turns the SIMD loops off (tests and the benchmark compare with the JavaScript loops). */
export function setSimdEnabled(on: boolean): void {
  enabled = on;
}

export interface SimdLoops {
  transpose4(src: number, ld: number, dst: number, R: number, C: number): void;
  addInto(src: number, dst: number, n: number): void;
  adamw(
    p: number,
    m: number,
    v: number,
    g: number,
    out: number,
    n: number,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    bc2: number,
    eps: number,
    step: number,
    scale: number,
    decay: number,
  ): void;
  maxPoolGradPixel(xw: number, rowB: number, ni: number, nj: number, CB: number, dy: number, delta: number): void;
}
const instances = new WeakMap<WasmMemory, SimdLoops | null>();

/** The SIMD loops bound to `memory`, or null where WebAssembly SIMD is unavailable. */
export function simdLoops(memory: WasmMemory | undefined): SimdLoops | null {
  if (!memory) return null;
  if (!instances.has(memory)) {
    let loops: SimdLoops | null;
    try {
      const inst = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()), { env: { memory } });
      loops = inst.exports as unknown as SimdLoops;
    } catch {
      loops = null;
    }
    instances.set(memory, loops);
  }
  return instances.get(memory) ?? null;
}
