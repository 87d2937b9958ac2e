/**
 * What logger.read(options) yields, from its options' types, as readLog's
 * overloads say: `read({ encoding: 'buffer' })` yields Buffers.
 */
import type { LogEntry, ReadLogOptions } from '../reader.js';

/** The payload type for `encoding`: Buffer for 'buffer', string for 'utf8' or none, either when unknown. */
export type ReadPayload<O extends ReadLogOptions> = O extends { encoding: 'buffer' }
  ? Buffer
  : O extends { encoding?: 'utf8' | undefined }
    ? string
    : string | Buffer;

/** Payloads, or LogEntry objects with `withPositions: true` (either when unknown). */
export type ReadResult<O extends ReadLogOptions> = O extends { withPositions: true }
  ? LogEntry<ReadPayload<O>>
  : O extends { withPositions?: false | undefined }
    ? ReadPayload<O>
    : ReadPayload<O> | LogEntry<ReadPayload<O>>;
