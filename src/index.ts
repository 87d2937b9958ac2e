/**
 * binary-logger: a durable, fast, thread-safe log of length-prefixed binary
 * records with size-based rollover into numbered backups.
 */
import './polyfill.js';
export { BinaryLogger, DURABILITIES, type BinaryLoggerOptions, type Durability } from './writer.js';
export { readLog, type LogEntry, type Position, type ReadLogOptions } from './reader.js';
export { follow, type FollowOptions } from './follow.js';
export { createReadStream, createWriteStream, type ReadStreamOptions, type WriteStreamOptions } from './streams.js';
export { CorruptLogError, type CodedError } from './errors.js';
export { HEADER_BYTES, MAX_PAYLOAD_BYTES } from './format.js';
export { backupPath } from './naming.js';
export type { LoggerHandle } from './shared.js';
