/**
 * TFRecord framing (tensorflow/tensorboard `summary/writer/record_writer.py`):
 *   uint64 length | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data), little-endian,
 * with CRC-32C (Castagnoli) from the maintained @node-rs/crc32 and TensorFlow's mask
 *   mask(c) = ((c >>> 15) | (c << 17)) + 0xa282ead8  (mod 2^32).
 */
import { crc32c } from '@node-rs/crc32';

export const maskedCrc32c = (data: Uint8Array): number => {
  const c = crc32c(Buffer.from(data.buffer, data.byteOffset, data.byteLength)) >>> 0;
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
};

export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.byteLength + 4);
  out.writeBigUInt64LE(BigInt(data.byteLength), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.byteLength);
  return out;
}

/**
 * Splits a TFRecord file into records, verifying both CRCs of each. A torn record at the end (a
 * writer killed mid-write) is reported as `truncated`, like TensorBoard's reader, not as an error.
 */
export function readRecords(buf: Buffer): { records: Buffer[]; truncated: boolean } {
  const records: Buffer[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 12 > buf.length) return { records, truncated: true };
    if (buf.readUInt32LE(off + 8) !== maskedCrc32c(buf.subarray(off, off + 8)))
      throw new Error(`TFRecord length CRC mismatch at byte ${off}`);
    const len = Number(buf.readBigUInt64LE(off));
    if (off + 12 + len + 4 > buf.length) return { records, truncated: true };
    const data = buf.subarray(off + 12, off + 12 + len);
    if (buf.readUInt32LE(off + 12 + len) !== maskedCrc32c(data))
      throw new Error(`TFRecord data CRC mismatch at byte ${off}`);
    records.push(data);
    off += 12 + len + 4;
  }
  return { records, truncated: false };
}
