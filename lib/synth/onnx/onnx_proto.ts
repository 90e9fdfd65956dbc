/**
 * The part of the ONNX protobuf schema detrlab writes (onnx/onnx `onnx/onnx.proto`, proto2; field numbers
 * copied from there): ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto,
 * TypeProto.Tensor, TensorShapeProto, OperatorSetIdProto. Built with protobufjs reflection at run time,
 * so no generated code and no `.proto` file ship with the project. Used only to write test models.
 */
import * as protobuf from 'protobufjs';

/** TensorProto.DataType values. */
export const ONNX_DTYPE = {
  float: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  double: 11,
} as const;
export type OnnxDtypeName = keyof typeof ONNX_DTYPE;

/** AttributeProto.AttributeType values. */
export const ATTR_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

const f = (id: number, type: string, rule?: 'repeated') => ({ id, type, ...(rule ? { rule } : {}) });

const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: f(1, 'string'), value: f(2, 'string') } },
        OperatorSetIdProto: { fields: { domain: f(1, 'string'), version: f(2, 'int64') } },
        TensorShapeProto: {
          fields: { dim: f(1, 'Dimension', 'repeated') },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: f(1, 'int64'), dimParam: f(2, 'string') },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: f(1, 'Tensor') },
          nested: { Tensor: { fields: { elemType: f(1, 'int32'), shape: f(2, 'TensorShapeProto') } } },
        },
        ValueInfoProto: { fields: { name: f(1, 'string'), type: f(2, 'TypeProto'), docString: f(3, 'string') } },
        TensorProto: {
          fields: {
            dims: { ...f(1, 'int64', 'repeated'), options: { packed: true } },
            dataType: f(2, 'int32'),
            floatData: { ...f(4, 'float', 'repeated'), options: { packed: true } },
            int32Data: { ...f(5, 'int32', 'repeated'), options: { packed: true } },
            int64Data: { ...f(7, 'int64', 'repeated'), options: { packed: true } },
            name: f(8, 'string'),
            rawData: f(9, 'bytes'),
          },
        },
        AttributeProto: {
          fields: {
            name: f(1, 'string'),
            f: f(2, 'float'),
            i: f(3, 'int64'),
            s: f(4, 'bytes'),
            t: f(5, 'TensorProto'),
            floats: f(7, 'float', 'repeated'),
            ints: f(8, 'int64', 'repeated'),
            type: f(20, 'int32'),
          },
        },
        NodeProto: {
          fields: {
            input: f(1, 'string', 'repeated'),
            output: f(2, 'string', 'repeated'),
            name: f(3, 'string'),
            opType: f(4, 'string'),
            attribute: f(5, 'AttributeProto', 'repeated'),
            docString: f(6, 'string'),
            domain: f(7, 'string'),
          },
        },
        GraphProto: {
          fields: {
            node: f(1, 'NodeProto', 'repeated'),
            name: f(2, 'string'),
            initializer: f(5, 'TensorProto', 'repeated'),
            docString: f(10, 'string'),
            input: f(11, 'ValueInfoProto', 'repeated'),
            output: f(12, 'ValueInfoProto', 'repeated'),
          },
        },
        ModelProto: {
          fields: {
            irVersion: f(1, 'int64'),
            producerName: f(2, 'string'),
            producerVersion: f(3, 'string'),
            domain: f(4, 'string'),
            modelVersion: f(5, 'int64'),
            docString: f(6, 'string'),
            graph: f(7, 'GraphProto'),
            opsetImport: f(8, 'OperatorSetIdProto', 'repeated'),
            metadataProps: f(14, 'StringStringEntryProto', 'repeated'),
          },
        },
      },
    },
  },
};

let root: protobuf.Root | undefined;
const modelType = (): protobuf.Type => (root ??= protobuf.Root.fromJSON(SCHEMA)).lookupType('onnx.ModelProto');

/** Serialises a plain ModelProto object (camelCase field names as above) to `.onnx` bytes. */
export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const T = modelType();
  const err = T.verify(model);
  if (err) throw new Error(`ModelProto: ${err}`);
  return T.encode(T.fromObject(model)).finish();
}

/** Parses `.onnx` bytes back into a plain object (for tests). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const T = modelType();
  return T.toObject(T.decode(bytes), { longs: Number, bytes: Array }) as Record<string, unknown>;
}
