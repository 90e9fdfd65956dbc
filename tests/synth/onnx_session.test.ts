/**
 * ONNX writing (protobufjs schema in code) and the session boundary: models written here load in
 * onnxruntime-node and compute what their graph says; float16 and int conversions; I/O layout checks fail
 * with messages naming the tensor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { attr, GraphBuilder } from '../../lib/synth/onnx/graph_builder.js';
import { decodeModel } from '../../lib/synth/onnx/onnx_proto.js';
import { OnnxModel } from '../../lib/synth/onnx_session.js';
import { MODEL_SPECS } from '../../lib/synth/io_spec.js';
import { floatToHalfBits, fromHalf, halfBitsToFloat, toHalf } from '../../lib/synth/half.js';
import { isUserError } from '../../lib/params/user_error.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-onnx-'));
const save = (name: string, bytes: Uint8Array) => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, bytes);
  return f;
};

test('float16 bits: exact values, round-to-nearest-even, overflow and subnormals', () => {
  assert.equal(floatToHalfBits(1), 0x3c00);
  assert.equal(floatToHalfBits(-2), 0xc000);
  assert.equal(floatToHalfBits(65504), 0x7bff); // largest half
  assert.equal(floatToHalfBits(65520), 0x7c00); // halfway to 65536 → even → Inf
  assert.equal(floatToHalfBits(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(floatToHalfBits(2 ** -25), 0x0000); // tie → even (0)
  assert.equal(floatToHalfBits(1 + 2 ** -11), 0x3c00); // tie between 0x3c00 and 0x3c01 → even
  assert.equal(floatToHalfBits(1 + 3 * 2 ** -11), 0x3c02); // tie between 0x3c01 and 0x3c02 → even
  assert.equal(floatToHalfBits(0.1), 0x2e66);
  assert.ok(Number.isNaN(halfBitsToFloat(floatToHalfBits(NaN))));
  const xs = Float32Array.of(0, 1, -1.5, 1000, 6.103515625e-5, 3.14159);
  const back = fromHalf(toHalf(xs));
  xs.forEach((x, i) => assert.ok(Math.abs(back[i] - x) <= Math.abs(x) * 2 ** -11, `${x} → ${back[i]}`));
});

test('a graph written here round-trips through protobuf and runs in onnxruntime: y = x·w + b', async () => {
  const g = new GraphBuilder('affine');
  const x = g.input('x', 'float', ['n', 2]);
  g.output('y', 'float', ['n', 2], g.op('Add', [g.op('MatMul', [x, g.f32([1, 2, 3, 4], [2, 2])]), g.f32([0.5, -1])]));
  const bytes = g.toBytes({ note: 'test' });
  const m = decodeModel(bytes) as { irVersion: number; graph: { input: Array<{ name: string }>; node: unknown[] } };
  assert.equal(m.irVersion, 8);
  assert.deepEqual(
    m.graph.input.map((i) => i.name),
    ['x'],
  );
  const model = await OnnxModel.open(save('affine.onnx', bytes), { providers: ['cpu'] });
  const out = await model.run({ x: { data: Float32Array.of(1, 1, 2, 0), dims: [2, 2] } });
  assert.deepEqual(Array.from(out.y.data as Float32Array), [1 + 3 + 0.5, 2 + 4 - 1, 2 + 0.5, 4 - 1]);
  assert.deepEqual(out.y.dims, [2, 2]);
  assert.ok(model.runs === 1 && model.runMs > 0);
  await model.dispose();
});

test('float16 and int64 inputs are converted at the boundary; scalar inputs accept a [1] tensor', async () => {
  const g = new GraphBuilder('conv');
  const h = g.op('Cast', [g.input('h', 'float16', [3])], { to: attr.int(1) });
  const i = g.op('Cast', [g.input('i', 'int64', [])], { to: attr.int(1) });
  g.output('y', 'float16', [3], g.op('Cast', [g.op('Add', [h, i])], { to: attr.int(10) }));
  const model = await OnnxModel.open(save('conv.onnx', g.toBytes()), { providers: ['cpu'] });
  assert.deepEqual(
    model.inputs.map((m) => [m.name, m.type, m.shape.length]),
    [
      ['h', 'float16', 1],
      ['i', 'int64', 0],
    ],
  );
  const out = await model.run({
    h: { data: Float32Array.of(0.1, 2, -3), dims: [3] },
    i: { data: Float64Array.of(5.9), dims: [1] },
  });
  assert.ok(out.y.data instanceof Float32Array);
  const want = [0.1, 2, -3].map((v) => halfBitsToFloat(floatToHalfBits(halfBitsToFloat(floatToHalfBits(v)) + 5))); // int64(5.9) = 5
  assert.deepEqual(Array.from(out.y.data as Float32Array), want);
  await model.dispose();
});

/** A text-encoder-like model whose input has the given name/type/rank. */
function textEncoderLike(inputName: string, dtype: 'int32' | 'float', dims: Array<number | string>): Uint8Array {
  const g = new GraphBuilder('te');
  const x = g.op('Cast', [g.input(inputName, dtype, dims)], { to: attr.int(1) });
  g.output('last_hidden_state', 'float', [...dims, 1], g.op('Unsqueeze', [x, g.i64([-1])]));
  return g.toBytes();
}

test('layout check: a wrong input name, element type or rank is a UserError naming the tensor', async () => {
  const open = (name: string, bytes: Uint8Array) =>
    OnnxModel.open(save(name, bytes), { providers: ['cpu'], spec: MODEL_SPECS.text_encoder });
  await assert.rejects(
    open('name.onnx', textEncoderLike('ids', 'int32', ['b', 77])),
    (e) =>
      isUserError(e) &&
      /input 'input_ids' is missing/.test((e as Error).message) &&
      /unexpected input 'ids'/.test((e as Error).message) &&
      /name\.onnx/.test((e as Error).message),
  );
  await assert.rejects(
    open('type.onnx', textEncoderLike('input_ids', 'float', ['b', 77])),
    (e) => isUserError(e) && /'input_ids' has element type float32, expected int32 or int64/.test((e as Error).message),
  );
  await assert.rejects(
    open('rank.onnx', textEncoderLike('input_ids', 'int32', [77])),
    (e) => isUserError(e) && /'input_ids' has rank 1/.test((e as Error).message),
  );
  const ok = await open('ok.onnx', textEncoderLike('input_ids', 'int32', [1, 77]));
  await assert.rejects(
    ok.run({ input_ids: { data: new Int32Array(154), dims: [2, 77] } }),
    (e) => isUserError(e) && /fixed shape \[1,77\]/.test((e as Error).message),
  );
  await ok.dispose();
});

test('a missing model file is a UserError', async () => {
  await assert.rejects(
    OnnxModel.open(path.join(tmp, 'nope.onnx')),
    (e) => isUserError(e) && /does not exist/.test((e as Error).message),
  );
});
