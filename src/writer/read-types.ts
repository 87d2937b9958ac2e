/**
 * What logger.read(options) yields, from its options' types, as readLog's
 * overloads say: `read({ encoding: 'buffer' })` yields Buffers.
 */
import type { LogEntry, ReadLogOptions } from '../reader.js';

/** The type of option `K` in `O`, undefined if `O` does not have it. */
type Field<O, K extends PropertyKey> = K extends keyof O ? O[K] : undefined;

/** The payload type for `encoding`: Buffer for 'buffer', string for 'utf8' or none, either when unknown. */
export type ReadPayload<O extends ReadLogOptions> = [Field<O, 'encoding'>] extends ['buffer']
  ? Buffer
  : [Field<O, 'encoding'>] extends ['utf8' | undefined]
    ? string
    : string | Buffer;

/** Payloads, or LogEntry objects with `withPositions: true` (either when unknown). */
export type ReadResult<O extends ReadLogOptions> = [Field<O, 'withPositions'>] extends [true]
  ? LogEntry<ReadPayload<O>>
  : [Field<O, 'withPositions'>] extends [false | undefined]
    ? ReadPayload<O>
    : ReadPayload<O> | LogEntry<ReadPayload<O>>;
