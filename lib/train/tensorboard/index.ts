export * from './writer.js';
export * from './reader.js';
export { maskedCrc32c, frameRecord, readRecords } from './record.js';
export { decodeEvent, DecodedEvent } from './protos.js';
