/**
 * Reading a log: every record, oldest first (backups in numeric order of
 * seq, then the current file), in chunks with bounded memory.
 *
 * A torn tail at the end of the current file ends the iteration quietly: it
 * may be a write in progress. A record that runs past the end of a backup is
 * corruption: CorruptLogError, after the records before it. A length is
 * checked against the bytes the file has before anything is allocated for it.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { CorruptLogError, isErrno } from './errors.js';
import { HEADER_BYTES, readHeader } from './format.js';
import { listBackups, type Backup } from './naming.js';
import { oneOf, toPath } from './validate.js';

/** Bytes read from a file per read(2). */
export const READ_CHUNK_BYTES = 1 << 20;

export interface ReadLogOptions {
  /**
   * `'utf8'` yields each payload decoded as a string (invalid UTF-8 becomes
   * U+FFFD, as with TextDecoder); `'buffer'` yields its raw bytes as a
   * Buffer (a Uint8Array) that stays valid after the iteration moves on.
   * Defaults to `'utf8'`.
   */
  encoding?: 'utf8' | 'buffer';
}

/**
 * Reads the records of one file, one at a time, without allocating per
 * record: after next() returns true, the payload is
 * `buf.subarray(payloadStart, payloadEnd)` and `offset` is the record's
 * byte offset in the file.
 */
export class FileRecordReader {
  readonly path: string;
  /** Bytes of the file this reader will read (its size when opened). */
  readonly size: number;
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
   */
  constructor(path: string, fd: number, isCurrent: boolean, freshBuffers: boolean, from = 0) {
    this.path = path;
    this.#fd = fd;
    this.#isCurrent = isCurrent;
    this.#fresh = freshBuffers;
    this.size = fstatSync(fd).size;
    this.#filePos = Math.min(from, this.size);
    this.buf = Buffer.allocUnsafe(Math.max(HEADER_BYTES, Math.min(READ_CHUNK_BYTES, this.size - this.#filePos)));
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

  /** Copy the current payload out (or view it, when buffers are fresh). */
  payload(): Buffer {
    const view = this.buf.subarray(this.payloadStart, this.payloadEnd);
    return this.#fresh ? view : Buffer.from(view);
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
      (this as { size: number }).size = this.#filePos;
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

/** One file of a log, in reading order. */
export interface LogFile {
  /** Backup number, or -1 for the current file. */
  seq: number;
  path: string;
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

/**
 * Walk the files of a log in order, yielding an open reader for each. New
 * backups that appear while reading (a rollover) are read before the
 * current file; a current file that is still the last backup's inode (a
 * rollover between its link and rename) is not read twice.
 */
export function* logFiles(path: string, freshBuffers: boolean): Generator<FileRecordReader> {
  let lastSeq = -1;
  let lastBackup: Backup | undefined;
  for (;;) {
    const backups = listBackups(path).filter((b) => b.seq > lastSeq);
    if (backups.length === 0) break;
    for (const backup of backups) {
      lastSeq = backup.seq;
      lastBackup = backup;
      const fd = openIfExists(backup.path);
      if (fd === undefined) continue; // removed by retention while we read
      const reader = new FileRecordReader(backup.path, fd, false, freshBuffers);
      try {
        yield reader;
      } finally {
        reader.close();
      }
    }
  }
  const fd = openIfExists(path);
  if (fd === undefined) return;
  if (lastBackup && sameFile(fd, lastBackup.path)) {
    closeSync(fd);
    return;
  }
  const reader = new FileRecordReader(path, fd, true, freshBuffers);
  try {
    yield reader;
  } finally {
    reader.close();
  }
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
export function readLog(filePath: string | URL, options?: ReadLogOptions & { encoding?: 'utf8' }): IterableIterator<string>;
export function readLog(filePath: string | URL, options: ReadLogOptions & { encoding: 'buffer' }): IterableIterator<Buffer>;
export function readLog(filePath: string | URL, options?: ReadLogOptions): IterableIterator<string | Buffer>;
export function readLog(filePath: string | URL, options: ReadLogOptions = {}): IterableIterator<string | Buffer> {
  const path = toPath(filePath);
  const encoding = oneOf(options.encoding, 'encoding', ['utf8', 'buffer'] as const, 'utf8');
  return encoding === 'buffer' ? readBuffers(path) : readStrings(path);
}

function* readStrings(path: string): Generator<string, void, undefined> {
  for (const file of logFiles(path, false)) {
    while (file.next()) yield file.buf.toString('utf8', file.payloadStart, file.payloadEnd);
  }
}

function* readBuffers(path: string): Generator<Buffer, void, undefined> {
  for (const file of logFiles(path, true)) {
    while (file.next()) yield file.buf.subarray(file.payloadStart, file.payloadEnd);
  }
}
