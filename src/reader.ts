/**
 * Reading a log: every record, oldest first (backups in numeric order of
 * seq, then the current file), in chunks with bounded memory.
 *
 * A torn tail at the end of the current file ends the iteration quietly: it
 * may be a write in progress. A record that runs past the end of a backup is
 * corruption: CorruptLogError, after the records before it. A length is
 * checked against the bytes the file has before anything is allocated for it.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { CorruptLogError, invalidArgType, invalidArgValue, isErrno } from './errors.js';
import { HEADER_BYTES, gunzipBackup, readHeader } from './format.js';
import { backupPath, listBackups, nextSeq, type Backup } from './naming.js';
import { oneOf, optionalBoolean, toPath } from './validate.js';

/**
 * Decode `buf[start, end)` as UTF-8 (invalid sequences become U+FFFD).
 * Buffer#utf8Slice skips the argument checks of Buffer#toString: about a
 * third of the cost of reading a short record.
 */
export const decodeUtf8: (buf: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as { utf8Slice?: unknown }).utf8Slice === 'function'
    ? (buf, start, end) => (buf as unknown as { utf8Slice(s: number, e: number): string }).utf8Slice(start, end)
    : (buf, start, end) => buf.toString('utf8', start, end);

/** Bytes read from a file per read(2). */
export const READ_CHUNK_BYTES = 1 << 20;

/**
 * Where a record starts: the backup it is in (for a record of the current
 * file, the seq that file will have once it is rolled over: one above the
 * highest backup) and its byte offset there. A position stays valid when
 * the current file is rolled over, so a consumer can checkpoint one and
 * resume from it after a restart.
 */
export interface Position {
  seq: number;
  offset: number;
}

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

/**
 * Reads the records of one file, one at a time, without allocating per
 * record: after next() returns true, the payload is
 * `buf.subarray(payloadStart, payloadEnd)` and `offset` is the record's
 * byte offset in the file.
 */
export class FileRecordReader {
  readonly path: string;
  /** The file's seq: its backup number, or the one the current file will get. */
  readonly seq: number;
  /** Bytes of the file this reader will read (its size when opened). */
  size: number;
  buf: Buffer;
  payloadStart = 0;
  payloadEnd = 0;
  /** File offset of the record last returned by next(). */
  offset = 0;
  #fd: number;
  #isCurrent: boolean;
  #fresh: boolean;
  /** Unparsed bytes are buf[#start, #end); #filePos is the file offset of buf[#end]. */
  #start = 0;
  #end = 0;
  #filePos: number;

  /**
   * @param isCurrent a torn tail ends the file quietly instead of throwing.
   * @param freshBuffers never reuse a buffer a payload was handed out in,
   *   so that payload views stay valid (raw mode).
   * @param from file offset to start at (a record boundary).
   * @param data the whole file, already in memory (a decompressed backup);
   *   then `fd` is -1.
   */
  constructor(path: string, seq: number, fd: number, isCurrent: boolean, freshBuffers: boolean, from = 0, data?: Buffer) {
    this.path = path;
    this.seq = seq;
    this.#fd = fd;
    this.#isCurrent = isCurrent;
    this.#fresh = freshBuffers;
    this.size = data ? data.length : fstatSync(fd).size;
    this.#filePos = Math.min(from, this.size);
    if (data) {
      this.buf = data;
      this.#start = this.#filePos;
      this.#end = this.#filePos = this.size;
    } else {
      this.buf = Buffer.allocUnsafe(Math.max(HEADER_BYTES, Math.min(READ_CHUNK_BYTES, this.size - this.#filePos)));
    }
  }

  /** Offset just past the record last returned by next(). */
  get nextOffset(): number {
    return this.offset + HEADER_BYTES + (this.payloadEnd - this.payloadStart);
  }

  /** Advance to the next whole record. False at the end of the file's data. */
  next(): boolean {
    for (;;) {
      const avail = this.#end - this.#start;
      if (avail >= HEADER_BYTES) {
        const length = readHeader(this.buf, this.#start);
        const recordEnd = this.#start + HEADER_BYTES + length;
        if (recordEnd <= this.#end) {
          this.offset = this.#filePos - avail;
          this.payloadStart = this.#start + HEADER_BYTES;
          this.payloadEnd = recordEnd;
          this.#start = recordEnd;
          return true;
        }
        const recordOffset = this.#filePos - avail;
        if (recordOffset + HEADER_BYTES + length > this.size) {
          return this.#tornTail(recordOffset, `a record of ${length} bytes runs past the end of the file (${this.size} bytes)`);
        }
        if (HEADER_BYTES + length > this.buf.length) this.#grow(HEADER_BYTES + length);
      }
      if (this.#filePos >= this.size) {
        if (avail === 0) return false;
        return this.#tornTail(this.#filePos - avail, `${avail} bytes at the end of the file are not a whole record`);
      }
      this.#fill();
    }
  }

  close(): void {
    if (this.#fd >= 0) {
      closeSync(this.#fd);
      this.#fd = -1;
    }
  }

  #tornTail(offset: number, reason: string): false {
    if (this.#isCurrent) return false;
    throw new CorruptLogError(this.path, offset, reason);
  }

  /** Move unparsed bytes to the front (of a new buffer in fresh mode) and read more. */
  #fill(): void {
    const avail = this.#end - this.#start;
    let target = this.buf;
    if (this.#fresh && this.#start > 0) {
      target = Buffer.allocUnsafe(Math.max(this.buf.length, Math.min(READ_CHUNK_BYTES, this.size - this.#filePos + avail)));
    }
    if (this.#start > 0 || target !== this.buf) this.buf.copy(target, 0, this.#start, this.#end);
    this.buf = target;
    this.#start = 0;
    this.#end = avail;
    const want = Math.min(this.buf.length - avail, this.size - this.#filePos);
    const got = readSync(this.#fd, this.buf, avail, want, this.#filePos);
    if (got === 0) {
      // The file shrank under us (truncated by another program): what is
      // left is all there is.
      this.size = this.#filePos;
      return;
    }
    this.#end += got;
    this.#filePos += got;
  }

  /** A record larger than the buffer: a buffer just big enough (checked against the file size). */
  #grow(bytes: number): void {
    const bigger = Buffer.allocUnsafe(bytes);
    this.buf.copy(bigger, 0, this.#start, this.#end);
    this.#end -= this.#start;
    this.#start = 0;
    this.buf = bigger;
  }
}

/** Open `path` for reading; undefined if it does not exist (now). */
function openIfExists(path: string): number | undefined {
  try {
    return openSync(path, 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

function sameFile(fd: number, path: string): boolean {
  const a = fstatSync(fd);
  const b = statSync(path, { throwIfNoEntry: false });
  return b !== undefined && a.ino === b.ino && a.dev === b.dev;
}

/** A reader for one backup, or undefined if it vanished (retention). */
function openBackup(backup: Backup, freshBuffers: boolean, from: number): FileRecordReader | undefined {
  if (backup.gzip) {
    // A compressed backup is decompressed whole: at most one file's worth
    // of memory (maxFileSize plus a record).
    let data: Buffer;
    try {
      data = gunzipBackup(readFileSync(backup.path));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      if (err instanceof Error && !(err as NodeJS.ErrnoException).syscall) {
        throw new CorruptLogError(backup.path, 0, `not a readable gzip file: ${err.message}`);
      }
      throw err;
    }
    return new FileRecordReader(backup.path, backup.seq, -1, false, freshBuffers, from, data);
  }
  const fd = openIfExists(backup.path);
  return fd === undefined ? undefined : new FileRecordReader(backup.path, backup.seq, fd, false, freshBuffers, from);
}

/**
 * Walk the files of a log in order from `from`, yielding an open reader for
 * each. Backups that appear while reading (a rollover) are read before the
 * current file. The current file is labelled with the seq it will have when
 * rolled over; if a rollover seals it between the listing and the open, the
 * walk starts over from the listing, so no record is read twice or missed.
 */
export function* logFiles(path: string, freshBuffers: boolean, from?: Position): Generator<FileRecordReader> {
  let wanted = from?.seq ?? 0; // the lowest seq not yet read
  for (;;) {
    const backups = listBackups(path);
    const pending = backups.filter((b) => b.seq >= wanted);
    if (pending.length > 0) {
      for (const backup of pending) {
        const start = from && backup.seq === from.seq ? from.offset : 0;
        wanted = backup.seq + 1;
        const reader = openBackup(backup, freshBuffers, start);
        if (!reader) continue;
        try {
          yield reader;
        } finally {
          reader.close();
        }
      }
      continue;
    }
    const seq = nextSeq(backups);
    if (from && from.seq > seq) {
      throw invalidArgValue('from', `is not a position in this log: seq ${from.seq} is beyond the current file's ${seq}`);
    }
    const fd = openIfExists(path);
    if (fd === undefined) return;
    if (statSync(backupPath(path, seq), { throwIfNoEntry: false }) !== undefined) {
      closeSync(fd); // rolled over since the listing: list again
      continue;
    }
    const last = backups[backups.length - 1];
    if (last && !last.gzip && sameFile(fd, last.path)) {
      // Still the last backup's file: a rollover between its link and its
      // rename (or a crash there). Its records were read as that backup;
      // the new current file is empty until the rename.
      closeSync(fd);
      return;
    }
    const reader = new FileRecordReader(path, seq, fd, true, freshBuffers, from && from.seq === seq ? from.offset : 0);
    try {
      yield reader;
    } finally {
      reader.close();
    }
    return;
  }
}

/** Validate a Position argument. */
export function checkPosition(value: unknown, name = 'from'): Position | undefined {
  if (value === undefined) return undefined;
  const p = value as Partial<Position>;
  if (typeof value !== 'object' || value === null || !Number.isSafeInteger(p.seq) || !Number.isSafeInteger(p.offset) || p.seq! < 0 || p.offset! < 0) {
    throw invalidArgType(name, 'a position { seq, offset } of non-negative integers', value);
  }
  return { seq: p.seq!, offset: p.offset! };
}

/**
 * Every record of the log whose current file is `filePath`, oldest first:
 * backups in numeric order of seq (10 after 9), then the current file.
 *
 * @throws CorruptLogError `ERR_LOG_CORRUPT` (with `path` and `offset`),
 *   after yielding the records before it, where a backup holds a partial
 *   record.
 * @example
 * ```ts
 * for (const record of readLog('./logs/events.bin')) console.log(record);
 * for (const bytes of readLog('./logs/events.bin', { encoding: 'buffer' })) use(bytes);
 * ```
 */
export function readLog(filePath: string | URL, options?: ReadLogOptions & { encoding?: 'utf8'; withPositions?: false }): IterableIterator<string>;
export function readLog(filePath: string | URL, options: ReadLogOptions & { encoding: 'buffer'; withPositions?: false }): IterableIterator<Buffer>;
export function readLog(filePath: string | URL, options: ReadLogOptions & { encoding?: 'utf8'; withPositions: true }): IterableIterator<LogEntry<string>>;
export function readLog(filePath: string | URL, options: ReadLogOptions & { encoding: 'buffer'; withPositions: true }): IterableIterator<LogEntry<Buffer>>;
export function readLog(filePath: string | URL, options?: ReadLogOptions): IterableIterator<string | Buffer | LogEntry<string | Buffer>>;
export function readLog(filePath: string | URL, options: ReadLogOptions = {}): IterableIterator<string | Buffer | LogEntry<string | Buffer>> {
  const path = toPath(filePath);
  const encoding = oneOf(options.encoding, 'encoding', ['utf8', 'buffer'] as const, 'utf8');
  const from = checkPosition(options.from);
  if (optionalBoolean(options.withPositions, 'withPositions', false)) return readEntries(path, encoding === 'buffer', from);
  return encoding === 'buffer' ? readBuffers(path, from) : readStrings(path, from);
}

function* readStrings(path: string, from?: Position): Generator<string, void, undefined> {
  for (const file of logFiles(path, false, from)) {
    while (file.next()) yield decodeUtf8(file.buf, file.payloadStart, file.payloadEnd);
  }
}

function* readBuffers(path: string, from?: Position): Generator<Buffer, void, undefined> {
  for (const file of logFiles(path, true, from)) {
    while (file.next()) yield file.buf.subarray(file.payloadStart, file.payloadEnd);
  }
}

/** The record `file.next()` just reached, as a LogEntry. */
export function entryOf(file: FileRecordReader, raw: boolean): LogEntry<string | Buffer> {
  return {
    payload: raw ? file.buf.subarray(file.payloadStart, file.payloadEnd) : decodeUtf8(file.buf, file.payloadStart, file.payloadEnd),
    position: { seq: file.seq, offset: file.offset },
    next: { seq: file.seq, offset: file.nextOffset },
  };
}

function* readEntries(path: string, raw: boolean, from?: Position): Generator<LogEntry<string | Buffer>, void, undefined> {
  for (const file of logFiles(path, raw, from)) {
    while (file.next()) yield entryOf(file, raw);
  }
}
