/**
 * The TensorBoard protobuf messages detrlab writes, defined for protobufjs with TensorFlow's field
 * numbers (tensorflow/tensorboard `compat/proto/event.proto`, `summary.proto`, `tensor.proto`,
 * `tensor_shape.proto`, `types.proto`). Only the fields we write or read back are declared; unknown
 * fields in files written by other tools are skipped by the decoder.
 */
import * as protobuf from 'protobufjs';

const root = protobuf.Root.fromJSON({
  nested: {
    tensorboard: {
      nested: {
        Event: {
          oneofs: { what: { oneof: ['file_version', 'graph_def', 'summary', 'session_log'] } },
          fields: {
            wall_time: { type: 'double', id: 1 },
            step: { type: 'int64', id: 2 },
            file_version: { type: 'string', id: 3 },
            graph_def: { type: 'bytes', id: 4 },
            summary: { type: 'Summary', id: 5 },
            session_log: { type: 'SessionLog', id: 7 },
          },
        },
        SessionLog: {
          fields: {
            status: { type: 'int32', id: 1 },
            checkpoint_path: { type: 'string', id: 2 },
            msg: { type: 'string', id: 3 },
          },
        },
        Summary: {
          fields: { value: { rule: 'repeated', type: 'Value', id: 1 } },
          nested: {
            Value: {
              oneofs: { value: { oneof: ['simple_value', 'image', 'tensor'] } },
              fields: {
                node_name: { type: 'string', id: 7 },
                tag: { type: 'string', id: 1 },
                metadata: { type: 'SummaryMetadata', id: 9 },
                simple_value: { type: 'float', id: 2 },
                image: { type: 'Image', id: 4 },
                tensor: { type: 'TensorProto', id: 8 },
              },
            },
            Image: {
              fields: {
                height: { type: 'int32', id: 1 },
                width: { type: 'int32', id: 2 },
                colorspace: { type: 'int32', id: 3 },
                encoded_image_string: { type: 'bytes', id: 4 },
              },
            },
          },
        },
        SummaryMetadata: {
          fields: {
            plugin_data: { type: 'PluginData', id: 1 },
            display_name: { type: 'string', id: 2 },
            summary_description: { type: 'string', id: 3 },
            data_class: { type: 'int32', id: 4 },
          },
          nested: {
            PluginData: { fields: { plugin_name: { type: 'string', id: 1 }, content: { type: 'bytes', id: 2 } } },
          },
        },
        TensorProto: {
          fields: {
            dtype: { type: 'int32', id: 1 },
            tensor_shape: { type: 'TensorShapeProto', id: 2 },
            version_number: { type: 'int32', id: 3 },
            tensor_content: { type: 'bytes', id: 4 },
            float_val: { rule: 'repeated', type: 'float', id: 5, options: { packed: true } },
            string_val: { rule: 'repeated', type: 'bytes', id: 8 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dim', id: 2 }, unknown_rank: { type: 'bool', id: 3 } },
          nested: { Dim: { fields: { size: { type: 'int64', id: 1 }, name: { type: 'string', id: 2 } } } },
        },
      },
    },
  },
});

export const EventProto = root.lookupType('tensorboard.Event');

/** TensorFlow DataType enum values used here (types.proto). */
export const DT_FLOAT = 1;
export const DT_STRING = 7;
/** SummaryMetadata.DataClass (summary.proto). */
export const DATA_CLASS_SCALAR = 1;
export const DATA_CLASS_TENSOR = 2;
/** Summary.Image colorspace: 3 = RGB, 4 = RGBA. */
export const COLORSPACE_RGB = 3;
export const COLORSPACE_RGBA = 4;
/** SessionLog.SessionStatus START: TensorBoard drops earlier events with step ≥ this event's step. */
export const SESSION_START = 1;

export interface DecodedValue {
  tag: string;
  simple_value?: number;
  image?: { height: number; width: number; colorspace: number; encoded_image_string: Uint8Array };
  tensor?: { dtype: number; string_val?: Uint8Array[]; float_val?: number[] };
  metadata?: { plugin_data?: { plugin_name: string } };
}
export interface DecodedEvent {
  wall_time: number;
  step: number;
  file_version?: string;
  summary?: { value: DecodedValue[] };
  session_log?: { status: number; msg?: string };
}

export function encodeEvent(e: {
  wall_time: number;
  step: number;
  file_version?: string;
  summary?: { value: object[] };
  session_log?: { status: number; msg?: string };
}): Uint8Array {
  return EventProto.encode(EventProto.fromObject(e)).finish();
}

export function decodeEvent(bytes: Uint8Array): DecodedEvent {
  const msg = EventProto.decode(bytes);
  return EventProto.toObject(msg, {
    longs: Number,
    defaults: false,
    bytes: Uint8Array as unknown as typeof String,
  }) as DecodedEvent;
}
