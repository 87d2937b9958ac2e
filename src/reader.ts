/**
 * Reading a log: every record, oldest first (backups in numeric order of
 * seq, then the current file), in chunks with bounded memory, through the
 * record cursor (read/cursor.ts) and the walk over the log's files
 * (read/walk.ts).
 *
 * A torn tail at the end of the current file ends the iteration quietly: it
 * may be a write in progress. A record that runs past the end of a backup,
 * or an impossible length anywhere, is corruption (read/policy.ts):
 * CorruptLogError, after the records before it. A length is checked
 * against the bytes the file has before anything is allocated for it.
 */
import { checkPosition, logFiles, type OpenFile, type Position } from './read/walk.js';
import { requireLog, takeSnapshot } from './read/snapshot.js';
import { oneOf, optionalBoolean, toPath } from './validate.js';

export { READ_CHUNK_BYTES } from './read/records.js';
export type { Position } from './read/walk.js';

/**
 * Decode `buf[start, end)` as UTF-8 (invalid sequences become U+FFFD).
 * Buffer#utf8Slice skips the argument checks of Buffer#toString: about a
 * third of the cost of reading a short record.
 */
export const decodeUtf8: (buf: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as { utf8Slice?: unknown }).utf8Slice === 'function'
    ? (buf, start, end) => (buf as unknown as { utf8Slice(s: number, e: number): string }).utf8Slice(start, end)
    : (buf, start, end) => buf.toString('utf8', start, end);

/** A record with its position, and the position just after it (where to resume). */
export interface LogEntry<T = string> {
  payload: T;
  position: Position;
  next: Position;
}

export interface ReadLogOptions {
  /**
   * `'utf8'` yields each payload decoded as a string (invalid UTF-8 becomes
   * U+FFFD, as with TextDecoder); `'buffer'` yields its raw bytes as a
   * Buffer (a Uint8Array) that stays valid after the iteration moves on.
   * Defaults to `'utf8'`.
   */
  encoding?: 'utf8' | 'buffer';
  /**
   * Start at this record (a position from an earlier read), not at the
   * oldest. If its backup was deleted since (retention), reading starts at
   * the oldest record still there. Defaults to the oldest record.
   */
  from?: Position;
  /** Yield {@link LogEntry} objects (payload, position, next) instead of payloads. Defaults to false. */
  withPositions?: boolean;
}

/*
 * What a reader yields, from its options' types: `{ encoding: 'buffer' }`
 * yields Buffers, `{ withPositions: true }` LogEntry objects. readLog(),
 * follow() and logger.read() share these.
 */

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

/**
 * Every record of the log whose current file is `filePath`, oldest first:
 * backups in numeric order of seq (10 after 9), then the current file.
 *
 * @throws Error `ENOENT` (`syscall: 'open'`, `path`) at once when there is
 *   neither a current file nor a backup: a typo is not an empty log.
 * @throws CorruptLogError `ERR_LOG_CORRUPT` (with `path`, `offset` and
 *   `reason`), after yielding the records before it, where a backup holds
 *   a partial record (`'torn-tail'`) or any file an impossible length
 *   (`'bad-length'`, e.g. a text file), or a compressed backup does not
 *   decompress (`'bad-gzip'`).
 * @example
 * ```ts
 * for (const record of readLog('./logs/events.bin')) console.log(record);
 * for (const bytes of readLog('./logs/events.bin', { encoding: 'buffer' })) use(bytes);
 * ```
 */
export function readLog<O extends ReadLogOptions = {}>(filePath: string | URL, options?: O): IterableIterator<ReadResult<O>>;
export function readLog(filePath: string | URL, options: ReadLogOptions = {}): IterableIterator<unknown> {
  const path = toPath(filePath);
  const encoding = oneOf(options.encoding, 'encoding', ['utf8', 'buffer'] as const, 'utf8');
  const from = checkPosition(options.from);
  requireLog(path, takeSnapshot(path));
  if (optionalBoolean(options.withPositions, 'withPositions', false)) return readEntries(path, encoding === 'buffer', from);
  return encoding === 'buffer' ? readBuffers(path, from) : readStrings(path, from);
}

function* readStrings(path: string, from?: Position): Generator<string, void, undefined> {
  for (const { cursor } of logFiles(path, false, from)) {
    while (cursor.next()) if (cursor.load()) yield decodeUtf8(cursor.buf, cursor.payloadStart, cursor.payloadEnd);
  }
}

function* readBuffers(path: string, from?: Position): Generator<Buffer, void, undefined> {
  for (const { cursor } of logFiles(path, true, from)) {
    while (cursor.next()) if (cursor.load()) yield cursor.buf.subarray(cursor.payloadStart, cursor.payloadEnd);
  }
}

/** The record `cursor.next()` just reached (its payload loaded), as a LogEntry. */
export function entryOf({ file, cursor }: OpenFile, raw: boolean): LogEntry<string | Buffer> {
  return {
    payload: raw ? cursor.buf.subarray(cursor.payloadStart, cursor.payloadEnd) : decodeUtf8(cursor.buf, cursor.payloadStart, cursor.payloadEnd),
    position: { seq: file.seq, offset: cursor.offset },
    next: { seq: file.seq, offset: cursor.nextOffset },
  };
}

function* readEntries(path: string, raw: boolean, from?: Position): Generator<LogEntry<string | Buffer>, void, undefined> {
  for (const open of logFiles(path, raw, from)) {
    while (open.cursor.next()) if (open.cursor.load()) yield entryOf(open, raw);
  }
}
