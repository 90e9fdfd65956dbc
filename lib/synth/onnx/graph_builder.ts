/**
 * A small ONNX graph builder: declare inputs/outputs, add initializers and nodes, get `.onnx` bytes.
 * Tensor data goes in `raw_data` (little-endian, as onnx.proto requires). Used to write the project's
 * own test models (lib/synth/tiny); real models come from exporters.
 *
 *   const g = new GraphBuilder('unet');
 *   const x = g.input('sample', 'float', ['batch', 4, 'h', 'w']);
 *   g.output('out_sample', 'float', ['batch', 4, 'h', 'w'], g.op('Tanh', [x]));
 *   fs.writeFileSync('model.onnx', g.toBytes());
 */
import { ATTR_TYPE, encodeModel, ONNX_DTYPE, OnnxDtypeName } from './onnx_proto.js';

export type Dim = number | string;
export type AttrValue =
  | { kind: 'int'; v: number }
  | { kind: 'float'; v: number }
  | { kind: 'string'; v: string }
  | { kind: 'ints'; v: number[] }
  | { kind: 'floats'; v: number[] };
export const attr = {
  int: (v: number): AttrValue => ({ kind: 'int', v }),
  float: (v: number): AttrValue => ({ kind: 'float', v }),
  str: (v: string): AttrValue => ({ kind: 'string', v }),
  ints: (v: number[]): AttrValue => ({ kind: 'ints', v }),
  floats: (v: number[]): AttrValue => ({ kind: 'floats', v }),
};

type TensorData = Float32Array | Int32Array | BigInt64Array | Uint16Array | Float64Array;

const valueInfo = (name: string, dtype: OnnxDtypeName, dims: Dim[]) => ({
  name,
  type: {
    tensorType: {
      elemType: ONNX_DTYPE[dtype],
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  },
});

function encodeAttr(name: string, a: AttrValue): Record<string, unknown> {
  switch (a.kind) {
    case 'int':
      return { name, type: ATTR_TYPE.INT, i: a.v };
    case 'float':
      return { name, type: ATTR_TYPE.FLOAT, f: a.v };
    case 'string':
      return { name, type: ATTR_TYPE.STRING, s: Buffer.from(a.v, 'utf8') };
    case 'ints':
      return { name, type: ATTR_TYPE.INTS, ints: a.v };
    case 'floats':
      return { name, type: ATTR_TYPE.FLOATS, floats: a.v };
  }
}

export class GraphBuilder {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly inits: Record<string, unknown>[] = [];
  private readonly inputs: Record<string, unknown>[] = [];
  private readonly outputs: Record<string, unknown>[] = [];
  private counter = 0;

  constructor(private readonly name: string) {}

  input(name: string, dtype: OnnxDtypeName, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  /** Declares a graph output; `from` (a node output) is renamed through an Identity node. */
  output(name: string, dtype: OnnxDtypeName, dims: Dim[], from: string): void {
    this.nodes.push({ opType: 'Identity', input: [from], output: [name], name: `out_${name}` });
    this.outputs.push(valueInfo(name, dtype, dims));
  }

  /** A constant tensor (initializer); returns its name. */
  init(data: TensorData, dims: number[], dtype: OnnxDtypeName = 'float', name = `c${this.counter++}`): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims}]`);
    const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.inits.push({ name, dims, dataType: ONNX_DTYPE[dtype], rawData: Buffer.from(raw) });
    return name;
  }

  /** Shorthands for small constants. */
  f32(values: number[], dims: number[] = [values.length]): string {
    return this.init(Float32Array.from(values), dims);
  }
  i64(values: number[], dims: number[] = [values.length]): string {
    return this.init(BigInt64Array.from(values.map(BigInt)), dims, 'int64');
  }

  /** Adds a node with one output; returns the output's name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.opN(opType, inputs, 1, attrs)[0];
  }

  opN(opType: string, inputs: string[], nOut: number, attrs: Record<string, AttrValue> = {}): string[] {
    const id = this.counter++;
    const outs = Array.from({ length: nOut }, (_, k) => `${opType.toLowerCase()}_${id}_${k}`);
    this.nodes.push({
      opType,
      input: inputs,
      output: outs,
      name: `${opType}_${id}`,
      attribute: Object.entries(attrs).map(([k, v]) => encodeAttr(k, v)),
    });
    return outs;
  }

  /** The model: IR version 8, default-domain opset 17 (ReduceMean still takes `axes` as an attribute there). */
  toBytes(meta: Record<string, string> = {}, opset = 17): Uint8Array {
    return encodeModel({
      irVersion: 8,
      producerName: 'detrlab',
      producerVersion: '0.1.0',
      opsetImport: [{ domain: '', version: opset }],
      metadataProps: Object.entries(meta).map(([key, value]) => ({ key, value })),
      graph: { name: this.name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs },
    });
  }
}
