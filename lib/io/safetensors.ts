/**
 * The safetensors format (huggingface/safetensors, `safetensors/src/tensor.rs`):
 *   8 bytes   N, unsigned 64-bit little-endian: header length
 *   N bytes   UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, …,
 *                          "__metadata__": { "<key>": "<string>" } }   (may be padded with spaces)
 *   rest      tensor bytes, little-endian, row-major; offsets are relative to the start of this part.
 * Validation follows the reference reader: the tensors must tile the data part exactly (no gap, no
 * overlap, nothing left over) and each byte range must equal shape × dtype size. Anything else is a
 * UserError naming the file and the tensor, never a crash or a partial load.
 */
import * as fs from 'node:fs';
import { UserError } from '../params/user_error.js';
import { writeFileAtomic } from './atomic.js';

export const DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
} as const;
export type SafeDtype = keyof typeof DTYPE_BYTES;

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  /** The raw little-endian bytes (a view into the file buffer). */
  bytes: Uint8Array;
}
export interface SafeTensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const MAX_HEADER = 100_000_000; // the reference reader's limit

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function parseHeader(buf: Uint8Array, where: string): { header: Record<string, unknown>; dataStart: number } {
  if (buf.byteLength < 8)
    throw new UserError(
      `${where}: not a safetensors file (${buf.byteLength} bytes, shorter than the 8-byte header length)`,
    );
  const n = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER))
    throw new UserError(`${where}: header length ${n} is over the 100 MB limit (corrupt or not a safetensors file)`);
  const len = Number(n);
  if (8 + len > buf.byteLength)
    throw new UserError(
      `${where}: truncated: header says ${len} header bytes, the file has ${buf.byteLength - 8} after the length`,
    );
  const text = new TextDecoder('utf-8', { fatal: false }).decode(buf.subarray(8, 8 + len));
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${where}: header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new UserError(`${where}: header is not a JSON object`);
  return { header: header as Record<string, unknown>, dataStart: 8 + len };
}

function parseEntry(
  name: string,
  e: unknown,
  where: string,
): { dtype: SafeDtype; shape: number[]; begin: number; end: number } {
  const bad = (why: string) => new UserError(`${where}: tensor '${name}': ${why}`);
  if (typeof e !== 'object' || e === null) throw bad('entry is not an object');
  const { dtype, shape, data_offsets: off } = e as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES))
    throw bad(
      `unknown or unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`,
    );
  const isCount = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (!Array.isArray(shape) || !shape.every(isCount))
    throw bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  if (!Array.isArray(off) || off.length !== 2 || !off.every(isCount) || off[1] < off[0])
    throw bad(`data_offsets ${JSON.stringify(off)} are not [begin, end] with 0 ≤ begin ≤ end`);
  const want = numel(shape) * DTYPE_BYTES[dtype as SafeDtype];
  if (off[1] - off[0] !== want)
    throw bad(`data_offsets [${off}] span ${off[1] - off[0]} bytes, but shape [${shape}] × ${dtype} needs ${want}`);
  return { dtype: dtype as SafeDtype, shape, begin: off[0], end: off[1] };
}

function parseMetadata(m: unknown, where: string): Record<string, string> {
  if (m === undefined) return {};
  if (
    typeof m !== 'object' ||
    m === null ||
    Array.isArray(m) ||
    !Object.values(m).every((v) => typeof v === 'string')
  ) {
    throw new UserError(`${where}: __metadata__ must be an object of strings`);
  }
  return { ...(m as Record<string, string>) };
}

/** Parses a whole safetensors buffer. `where` names it in errors (usually the file path). */
export function parseSafetensors(buf: Uint8Array, where = 'safetensors'): SafeTensorsFile {
  const { header, dataStart } = parseHeader(buf, where);
  const dataLen = buf.byteLength - dataStart;
  const entries = Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .map(([k, e]) => ({ name: k, ...parseEntry(k, e, where) }));
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of entries) {
    if (e.begin !== pos) {
      throw new UserError(
        `${where}: tensor '${e.name}' starts at byte ${e.begin} of the data, expected ${pos} (${e.begin < pos ? 'overlaps the previous tensor' : 'leaves a gap'})`,
      );
    }
    pos = e.end;
  }
  if (pos !== dataLen) {
    throw new UserError(
      pos > dataLen
        ? `${where}: truncated: tensors need ${pos} data bytes, the file has ${dataLen}`
        : `${where}: ${dataLen - pos} bytes after the last tensor are not described by the header`,
    );
  }
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries)
    tensors.set(e.name, {
      dtype: e.dtype,
      shape: e.shape,
      bytes: buf.subarray(dataStart + e.begin, dataStart + e.end),
    });
  return { tensors, metadata: parseMetadata(header.__metadata__, where) };
}

export function readSafetensors(file: string): SafeTensorsFile {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new UserError(
      `cannot read safetensors file '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), file);
}

/** IEEE half → float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1,
    e = (h >> 10) & 0x1f,
    f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** float → IEEE half, round to nearest even; overflow → ±∞. */
export function floatToHalf(x: number): number {
  scratchF32[0] = x;
  const u = scratchU32[0];
  const sign = (u >>> 16) & 0x8000,
    exp = (u >>> 23) & 0xff,
    mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // subnormal half (or zero)
    if (e < -10) return sign;
    const m = mant | 0x800000,
      shift = 14 - e;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1),
      mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // may carry into the exponent: correct rounding
  return half;
}

let halfTable: Float32Array | undefined;
/** All 65,536 half values, built once. */
const halves = (): Float32Array => (halfTable ??= Float32Array.from({ length: 65536 }, (_, h) => halfToFloat(h)));

type Reader = (dv: DataView, i: number) => number;
const READERS: Record<Exclude<SafeDtype, 'F32' | 'BF16'>, Reader> = {
  F64: (dv, i) => dv.getFloat64(8 * i, true),
  F16: (dv, i) => halfToFloat(dv.getUint16(2 * i, true)),
  I64: (dv, i) => Number(dv.getBigInt64(8 * i, true)),
  U64: (dv, i) => Number(dv.getBigUint64(8 * i, true)),
  I32: (dv, i) => dv.getInt32(4 * i, true),
  U32: (dv, i) => dv.getUint32(4 * i, true),
  I16: (dv, i) => dv.getInt16(2 * i, true),
  U16: (dv, i) => dv.getUint16(2 * i, true),
  I8: (dv, i) => dv.getInt8(i),
  U8: (dv, i) => dv.getUint8(i),
  BOOL: (dv, i) => (dv.getUint8(i) ? 1 : 0),
};

/** Any numeric dtype → a new Float32Array (integers by value; I64/U64 beyond 2^24 lose precision in float32). */
export function toFloat32(t: SafeTensor): Float32Array {
  const n = numel(t.shape);
  if (t.dtype === 'F32') return new Float32Array(Uint8Array.prototype.slice.call(t.bytes).buffer, 0, n); // a copy, aligned
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Float32Array(n);
  if (t.dtype === 'BF16') {
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u32[i] = dv.getUint16(2 * i, true) << 16; // bfloat16 = the top half of a float32
    return out;
  }
  if (t.dtype === 'F16') {
    const table = halves();
    for (let i = 0; i < n; i++) out[i] = table[dv.getUint16(2 * i, true)];
    return out;
  }
  const read = READERS[t.dtype];
  for (let i = 0; i < n; i++) out[i] = read(dv, i);
  return out;
}

/** Any numeric dtype → Float64Array (exact for integers up to 2^53, e.g. I64 indices). */
export function toFloat64(t: SafeTensor): Float64Array {
  if (t.dtype === 'F32' || t.dtype === 'BF16') return Float64Array.from(toFloat32(t));
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Float64Array(numel(t.shape)),
    read = READERS[t.dtype];
  for (let i = 0; i < out.length; i++) out[i] = read(dv, i);
  return out;
}

export type WriteDtype = 'F32' | 'F16' | 'I64' | 'I32' | 'U8';
export interface TensorToWrite {
  dtype: WriteDtype;
  shape: number[];
  data: ArrayLike<number>;
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
  throw new Error('safetensors: typed-array encoding assumes a little-endian machine');

/** Little-endian bytes of one tensor's values (typed arrays are little-endian here, checked above). */
function encodeData(t: TensorToWrite): Uint8Array {
  const n = numel(t.shape);
  switch (t.dtype) {
    case 'F32':
      return new Uint8Array(Float32Array.from(t.data).buffer);
    case 'I32':
      return new Uint8Array(Int32Array.from(t.data).buffer);
    case 'U8':
      return Uint8Array.from(t.data);
    case 'F16': {
      const h = new Uint16Array(n);
      for (let i = 0; i < n; i++) h[i] = floatToHalf(t.data[i]);
      return new Uint8Array(h.buffer);
    }
    case 'I64': {
      const b = new BigInt64Array(n);
      for (let i = 0; i < n; i++) b[i] = BigInt(Math.trunc(t.data[i]));
      return new Uint8Array(b.buffer);
    }
  }
}

/** Encodes tensors (in the given order) and string metadata as a safetensors buffer; header padded to 8 bytes. */
export function encodeSafetensors(
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = Object.keys(metadata).length ? { __metadata__: metadata } : {};
  let pos = 0;
  for (const [name, t] of list) {
    const bytes = numel(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.length !== numel(t.shape))
      throw new Error(`tensor '${name}': ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [pos, pos + bytes] };
    pos += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const hb = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + hb.length + pos);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let at = 8 + hb.length;
  for (const [, t] of list) {
    out.set(encodeData(t), at);
    at += numel(t.shape) * DTYPE_BYTES[t.dtype];
  }
  return out;
}

/** Writes a safetensors file atomically (temp file + rename). */
export function writeSafetensors(
  file: string,
  tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}
