import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import {
  SummaryWriter,
  readScalars,
  maskedCrc32c,
  eventFiles,
  readRecords,
} from '../../lib/train/tensorboard/index.js';

/** An independent protobuf wire-format walker: field number → list of raw values. */
function fields(buf: Uint8Array): Map<number, Array<number | Uint8Array>> {
  const out = new Map<number, Array<number | Uint8Array>>();
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let i = 0;
  const varint = () => {
    let x = 0n,
      s = 0n;
    for (;;) {
      const b = buf[i++];
      x |= BigInt(b & 0x7f) << s;
      s += 7n;
      if (!(b & 0x80)) return x;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const [field, wire] = [key >>> 3, key & 7];
    let v: number | Uint8Array;
    if (wire === 0) v = Number(varint());
    else if (wire === 1) {
      v = dv.getFloat64(i, true);
      i += 8;
    } else if (wire === 5) {
      v = dv.getFloat32(i, true);
      i += 4;
    } else if (wire === 2) {
      const n = Number(varint());
      v = buf.subarray(i, i + n);
      i += n;
    } else throw new Error(`wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), v]);
  }
  return out;
}

test('CRC-32C check value and TensorFlow mask', () => {
  assert.equal(crc32c(Buffer.from('123456789')) >>> 0, 0xe3069283);
  const c = 0xe3069283;
  assert.equal(maskedCrc32c(Buffer.from('123456789')), ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) % 2 ** 32);
});

test('event files decode (by TensorBoard field numbers) to the logged tags, steps and values; CRCs verified', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-tb-'));
  const w = new SummaryWriter(dir);
  w.scalar('train/loss_ce', 1.25, 1);
  w.scalars({ loss_bbox: 0.5, loss_giou: 0.75, bad: NaN }, 2, 'train/');
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
  w.image('val/pred_0', png, 3, { width: 4, height: 2 });
  w.text('config', '| a | b |', 0);
  w.close();
  const files = eventFiles(dir);
  assert.equal(files.length, 1);
  assert.match(path.basename(files[0]), /^events\.out\.tfevents\.\d{10}\./);
  const { records, truncated } = readRecords(fs.readFileSync(files[0]));
  assert.equal(truncated, false);
  assert.equal(records.length, 6);
  // Record 0: Event{wall_time=1 (double), file_version=3}
  const first = fields(records[0]);
  assert.equal(new TextDecoder().decode(first.get(3)![0] as Uint8Array), 'brain.Event:2');
  assert.ok((first.get(1)![0] as number) > 1.6e9);
  // Record 1: Event{step=2, summary=5{value=1{tag=1, simple_value=2}}}
  const ev = fields(records[1]);
  assert.equal(ev.get(2)![0], 1);
  const value = fields(fields(ev.get(5)![0] as Uint8Array).get(1)![0] as Uint8Array);
  assert.equal(new TextDecoder().decode(value.get(1)![0] as Uint8Array), 'train/loss_ce');
  assert.equal(value.get(2)![0], 1.25);
  // Image: value field 4 = Image{height=1, width=2, colorspace=3, encoded=4}
  const img = fields(
    fields(fields(fields(records[4]).get(5)![0] as Uint8Array).get(1)![0] as Uint8Array).get(4)![0] as Uint8Array,
  );
  assert.deepEqual([img.get(1)![0], img.get(2)![0], img.get(3)![0]], [2, 4, 3]);
  assert.deepEqual(Buffer.from(img.get(4)![0] as Uint8Array), png);
  // The project's own reader agrees; NaN was not logged.
  assert.deepEqual(
    readScalars(dir).map((s) => [s.tag, s.step, s.value]),
    [
      ['train/loss_ce', 1, 1.25],
      ['train/loss_bbox', 2, 0.5],
      ['train/loss_giou', 2, 0.75],
    ],
  );
});

test('a torn final record (killed writer) is reported as truncated; a flipped byte is a CRC error', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-tb-'));
  const w = new SummaryWriter(dir);
  w.scalar('a', 1, 1);
  w.close();
  const buf = fs.readFileSync(eventFiles(dir)[0]);
  const torn = readRecords(buf.subarray(0, buf.length - 3));
  assert.equal(torn.truncated, true);
  assert.equal(torn.records.length, 1);
  const bad = Buffer.from(buf);
  bad[bad.length - 6] ^= 0xff;
  assert.throws(() => readRecords(bad), /CRC mismatch/);
});
