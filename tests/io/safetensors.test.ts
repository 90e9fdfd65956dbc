import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  encodeSafetensors,
  parseSafetensors,
  readSafetensors,
  writeSafetensors,
  toFloat32,
  toFloat64,
  halfToFloat,
  floatToHalf,
} from '../../lib/io/safetensors.js';
import { isUserError } from '../../lib/params/user_error.js';

/** A file built by hand: 8-byte length, header JSON, data bytes. */
function rawFile(header: unknown, data: Uint8Array, lengthOverride?: bigint): Uint8Array {
  const hb = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}
const f32bytes = (xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);
const userErr = (re: RegExp) => (e: unknown) => isUserError(e) && re.test((e as Error).message);

test('round trip F32/F16/I64/I32/U8 with metadata, through a file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-'));
  const file = path.join(dir, 'x.safetensors');
  writeSafetensors(
    file,
    {
      a: { dtype: 'F32', shape: [2, 3], data: [1, -2.5, 3e-8, 1e30, 0, -0] },
      h: { dtype: 'F16', shape: [4], data: [1, 0.333251953125, -65504, 6e-8] },
      n: { dtype: 'I64', shape: [], data: [123456789] },
      i: { dtype: 'I32', shape: [2], data: [-7, 2147483647] },
      m: { dtype: 'U8', shape: [1, 3], data: [0, 1, 255] },
      e: { dtype: 'F32', shape: [0, 4], data: [] },
    },
    { format: 'pt' },
  );
  const raw = fs.readFileSync(file);
  assert.equal(Number(raw.readBigUInt64LE(0)) % 8, 0, 'header padded to 8 bytes');
  const f = readSafetensors(file);
  assert.deepEqual(f.metadata, { format: 'pt' });
  assert.deepEqual([...f.tensors.keys()], ['a', 'h', 'n', 'i', 'm', 'e']);
  assert.deepEqual(f.tensors.get('a')!.shape, [2, 3]);
  assert.deepEqual([...toFloat32(f.tensors.get('a')!)], [...new Float32Array([1, -2.5, 3e-8, 1e30, 0, -0])]);
  assert.deepEqual([...toFloat32(f.tensors.get('h')!)], [1, 0.333251953125, -65504, 5.960464477539063e-8]);
  assert.deepEqual([...toFloat64(f.tensors.get('n')!)], [123456789]);
  assert.deepEqual([...toFloat64(f.tensors.get('i')!)], [-7, 2147483647]);
  assert.deepEqual([...toFloat32(f.tensors.get('i')!)], [-7, 2147483648]); // float32 rounding of 2^31−1
  assert.deepEqual([...toFloat32(f.tensors.get('m')!)], [0, 1, 255]);
  assert.equal(toFloat32(f.tensors.get('e')!).length, 0);
  fs.rmSync(dir, { recursive: true });
});

test('half and bfloat16 conversions (hand-computed bit patterns)', () => {
  assert.equal(floatToHalf(1), 0x3c00);
  assert.equal(floatToHalf(-2), 0xc000);
  assert.equal(floatToHalf(65504), 0x7bff);
  assert.equal(floatToHalf(65520), 0x7c00); // rounds up to +inf
  assert.equal(floatToHalf(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(floatToHalf(2 ** -25), 0x0000); // ties to even → 0
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00); // halfway, even stays
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02); // halfway, odd rounds up
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  assert.equal(halfToFloat(0x3555), 0.333251953125);
  assert.equal(halfToFloat(0xfc00), -Infinity);
  // BF16: 1.0 = 0x3f80, −2.5 = 0xc020, 3.140625 = 0x4049
  const bf = new Uint8Array(new Uint16Array([0x3f80, 0xc020, 0x4049]).buffer);
  const f = parseSafetensors(rawFile({ b: { dtype: 'BF16', shape: [3], data_offsets: [0, 6] } }, bf));
  assert.deepEqual([...toFloat32(f.tensors.get('b')!)], [1, -2.5, 3.140625]);
});

test('I64 buffers (num_batches_tracked) are read by value', () => {
  const d = new Uint8Array(new BigInt64Array([42n]).buffer);
  const f = parseSafetensors(
    rawFile({ 'bn.num_batches_tracked': { dtype: 'I64', shape: [], data_offsets: [0, 8] } }, d),
  );
  assert.deepEqual([...toFloat32(f.tensors.get('bn.num_batches_tracked')!)], [42]);
});

test('an unaligned data section still decodes', () => {
  const f = parseSafetensors(rawFile('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} ', f32bytes([1.5, -3])));
  assert.deepEqual([...toFloat32(f.tensors.get('a')!)], [1.5, -3]);
});

test('malformed files are clear UserErrors', () => {
  const good = encodeSafetensors({
    a: { dtype: 'F32', shape: [2], data: [1, 2] },
    b: { dtype: 'F32', shape: [1], data: [3] },
  });
  const entry = (o: number[], shape = [2], dtype = 'F32') => ({ dtype, shape, data_offsets: o });
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(3), /shorter than the 8-byte/],
    ['truncated data', good.subarray(0, good.length - 1), /truncated: tensors need 12 data bytes, the file has 11/],
    ['truncated header', good.subarray(0, 20), /truncated: header says/],
    ['header length too big', rawFile({}, new Uint8Array(0), 1n << 40n), /over the 100 MB limit/],
    ['not JSON', rawFile('{"a": [', new Uint8Array(0)), /not valid JSON/],
    ['JSON array', rawFile('[1,2]', new Uint8Array(0)), /not a JSON object/],
    [
      'unknown dtype',
      rawFile({ a: entry([0, 8], [2], 'F8_E4M3') }, f32bytes([1, 2])),
      /tensor 'a': unknown or unsupported dtype "F8_E4M3"/,
    ],
    [
      'byte count ≠ shape×dtype',
      rawFile({ a: entry([0, 8], [3]) }, f32bytes([1, 2])),
      /span 8 bytes, but shape \[3\] × F32 needs 12/,
    ],
    [
      'overlap',
      rawFile({ a: entry([0, 8]), b: entry([4, 12]) }, f32bytes([1, 2, 3])),
      /tensor 'b' starts at byte 4 .*overlaps/,
    ],
    [
      'gap',
      rawFile({ a: entry([0, 8]), b: entry([12, 20]) }, f32bytes([1, 2, 3, 4, 5])),
      /tensor 'b' starts at byte 12 of the data, expected 8 \(leaves a gap\)/,
    ],
    [
      'out of range',
      rawFile({ a: entry([0, 8]), b: entry([8, 16]) }, f32bytes([1, 2, 3])),
      /truncated: tensors need 16 data bytes, the file has 12/,
    ],
    ['trailing bytes', rawFile({ a: entry([0, 8]) }, f32bytes([1, 2, 3])), /4 bytes after the last tensor/],
    ['negative offsets', rawFile({ a: entry([-4, 4]) }, f32bytes([1, 2])), /data_offsets \[-4,4\]/],
    ['reversed offsets', rawFile({ a: entry([8, 0]) }, f32bytes([1, 2])), /not \[begin, end\]/],
    ['bad shape', rawFile({ a: entry([0, 8], [2.5] as number[]) }, f32bytes([1, 2])), /shape \[2.5\]/],
    [
      'bad metadata',
      rawFile({ __metadata__: { k: 1 }, a: entry([0, 8]) }, f32bytes([1, 2])),
      /__metadata__ must be an object of strings/,
    ],
  ];
  for (const [what, buf, re] of cases) assert.throws(() => parseSafetensors(buf, 'f.safetensors'), userErr(re), what);
  assert.throws(
    () => readSafetensors('/nonexistent/x.safetensors'),
    userErr(/cannot read safetensors file '\/nonexistent\/x.safetensors': ENOENT/),
  );
  assert.doesNotThrow(() => parseSafetensors(good));
});
