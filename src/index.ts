/**
 * binary-logger: a durable, fast, thread-safe log of length-prefixed binary
 * records with size-based rollover into numbered backups.
 */
import './polyfill.js';
export { BinaryLogger, DURABILITIES, type BinaryLoggerEvents, type BinaryLoggerOptions, type Durability } from './writer.js';
export { readLog, type LogEntry, type Position, type ReadLogOptions, type ReadPayload, type ReadResult } from './reader.js';
export { openCursor, LogCursor, type CursorOpenOptions } from './read/log-cursor.js';
export { follow, type FollowOptions } from './follow.js';
export { createReadStream, createWriteStream, type ReadStreamOptions, type WriteStreamOptions } from './streams.js';
export { verify, type ProblemKind, type VerifiedFile, type VerifyOptions, type VerifyProblem, type VerifyReport } from './verify.js';
export { repair, type RepairAction, type RepairOptions, type RepairReport } from './repair.js';
export { logStats, type LogStats } from './stats.js';
export { lastRecords, type LastRecords } from './tail.js';
export { logOwner, type LogOwner } from './multiprocess/owner-info.js';
export { CorruptLogError, type CodedError, type CorruptReason } from './errors.js';
export { HEADER_BYTES, MAX_PAYLOAD_BYTES } from './format.js';
export { backupPath } from './naming.js';
export type { LoggerHandle } from './shared.js';
