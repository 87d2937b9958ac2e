/**
 * RecordCursor: the one engine that walks the records of one file, as
 * LevelDB's log reader keeps the record grammar in one ReadPhysicalRecord.
 * readLog, follow, lastRecords, verify, logStats, repair, the public
 * openCursor() and the writer's recovery at open all step through it.
 *
 * It reads a header, checks the length against the bytes the file has
 * before anything is allocated for it, and hands the payload only when
 * asked: a payload never asked for is skipped by its length (never read
 * when it lies beyond the window). At the end, `stop` says why it stopped
 * (records.ts has the rule); what a stop *means* (end of data, or
 * corruption) is policy.ts's business, not the cursor's.
 *
 * Memory: one window of at most READ_CHUNK_BYTES (never more than the file
 * holds), grown only for a record larger than that (and no larger than the
 * file).
 */
import { HEADER_BYTES, readHeader } from '../format.js';
import type { FsOps } from '../fsops.js';
import { READ_CHUNK_BYTES, overrun, shortHeader, type Stop, type StopReason } from './records.js';

export { lastWholeRecordEnd, rolloverPoint, READ_CHUNK_BYTES, type Stop, type StopReason } from './records.js';

/** Where a cursor reads: an open file through an fs object, or bytes in memory. */
export type CursorSource = { fs: FsOps; fd: number; size: number } | { data: Buffer };

export interface CursorOptions {
  /** File offset to start at (a record boundary). Defaults to 0. */
  from?: number;
  /**
   * Never overwrite a window a payload was handed out in, so that payload
   * views stay valid after the cursor moves on (readLog's `'buffer'` mode).
   * Defaults to false: a view is valid until the next step.
   */
  freshBuffers?: boolean;
}

/** Steps through the records of one file; see the module comment. */
export class RecordCursor {
  /** Bytes of the file the cursor reads (its size when opened; lowered if it shrinks). */
  size: number;
  /** The window; after load(), the payload is `buf[payloadStart, payloadEnd)`. */
  buf: Buffer;
  payloadStart = 0;
  payloadEnd = 0;
  /** File offset of the current record (its length prefix). */
  offset = 0;
  /** Payload bytes of the current record. */
  length = 0;
  /** Why the cursor stopped; undefined while next() still returns true. */
  stop: Stop | undefined;
  #fs: FsOps | undefined;
  #fd: number;
  #fresh: boolean;
  /** File offset of buf[0], valid bytes in buf, and the file offset of the next record. */
  #bufAt = 0;
  #bufLen = 0;
  #pos: number;
  #loaded = false;

  constructor(source: CursorSource, options: CursorOptions = {}) {
    const { from = 0, freshBuffers = false } = options;
    this.#fresh = freshBuffers;
    if ('data' in source) {
      this.#fs = undefined;
      this.#fd = -1;
      this.buf = source.data;
      this.size = source.data.length;
      this.#bufLen = this.size;
    } else {
      this.#fs = source.fs;
      this.#fd = source.fd;
      this.size = source.size;
      this.buf = Buffer.allocUnsafe(Math.max(HEADER_BYTES, Math.min(READ_CHUNK_BYTES, source.size - Math.min(from, source.size))));
    }
    this.#pos = Math.min(from, this.size);
  }

  /** Offset just past the current record: where the next one starts. */
  get nextOffset(): number {
    return this.offset + HEADER_BYTES + this.length;
  }

  /**
   * Step to the next whole record: `offset` and `length` describe it, its
   * payload is not read yet (see load() and payload()). False at the end,
   * with `stop` saying why.
   */
  next(): boolean {
    if (this.stop) return false;
    // Fast path (readLog's speed): the next record is whole in the window,
    // which never holds bytes beyond the file's size.
    const i = this.#pos - this.#bufAt;
    const avail = this.#bufLen - i;
    if (i >= 0 && avail >= HEADER_BYTES) {
      const length = readHeader(this.buf, i);
      if (length <= avail - HEADER_BYTES) {
        this.offset = this.#pos;
        this.length = length;
        this.payloadStart = i + HEADER_BYTES;
        this.payloadEnd = this.payloadStart + length;
        this.#pos += HEADER_BYTES + length;
        this.#loaded = true;
        return true;
      }
    }
    return this.#step();
  }

  /** next() when the record is not whole in the window: read more, or stop. */
  #step(): boolean {
    for (;;) {
      const pos = this.#pos;
      const left = this.size - pos;
      if (left <= 0) return this.#end({ reason: 'clean', offset: pos, detail: '' });
      if (left < HEADER_BYTES) {
        if (!this.#window(pos, left)) continue; // shrank: size is lower now
        return this.#end(shortHeader(pos, left));
      }
      let i = pos - this.#bufAt;
      if (i < 0 || pos + HEADER_BYTES > this.#bufAt + this.#bufLen) {
        if (!this.#window(pos, HEADER_BYTES)) continue;
        i = pos - this.#bufAt;
      }
      const length = readHeader(this.buf, i);
      if (length > left - HEADER_BYTES) return this.#end(overrun(pos, length, this.size));
      this.offset = pos;
      this.length = length;
      this.#pos = pos + HEADER_BYTES + length;
      // Invariant: [from, #pos) is whole records, each checked against size.
      this.#loaded = this.#pos <= this.#bufAt + this.#bufLen;
      if (this.#loaded) {
        this.payloadStart = i + HEADER_BYTES;
        this.payloadEnd = this.payloadStart + length;
      }
      return true;
    }
  }

  /**
   * Bring the current record's payload into `buf[payloadStart, payloadEnd)`.
   * False if the file shrank under the cursor before its end (then the
   * cursor stops as at a torn tail there).
   */
  load(): boolean {
    if (this.#loaded) return true;
    const start = this.offset + HEADER_BYTES;
    if (!this.#window(start, this.length)) {
      this.#pos = this.offset;
      return false;
    }
    this.payloadStart = start - this.#bufAt;
    this.payloadEnd = this.payloadStart + this.length;
    this.#loaded = true;
    return true;
  }

  /**
   * The current record's payload: a view into the window, valid until the
   * next step (unless `freshBuffers`). Undefined if the file shrank before it.
   */
  payload(): Buffer | undefined {
    return this.load() ? this.buf.subarray(this.payloadStart, this.payloadEnd) : undefined;
  }

  /**
   * The current record's payload in pieces of at most the window's size,
   * each a view valid until the next piece: a payload larger than the
   * window is streamed, never held whole (verify's UTF-8 check). Ends early
   * if the file shrank under the cursor.
   */
  *payloadChunks(): Generator<Buffer, void, undefined> {
    if (this.#loaded) {
      yield this.buf.subarray(this.payloadStart, this.payloadEnd);
      return;
    }
    for (let at = this.offset + HEADER_BYTES, end = at + this.length; at < end; ) {
      const n = Math.min(this.buf.length, end - at);
      if (!this.#window(at, n)) {
        this.#pos = this.offset;
        return;
      }
      const i = at - this.#bufAt;
      yield this.buf.subarray(i, i + n);
      at += n;
    }
  }

  /**
   * Go back (or forward) to `offset`, which must be a record boundary found
   * by this cursor: the next step reads the record there.
   */
  seek(offset: number): void {
    this.#pos = offset;
    this.stop = undefined;
    this.#loaded = false;
  }

  /** Close the file (a cursor over a file owns its descriptor). */
  close(): void {
    if (this.#fd >= 0) {
      const fd = this.#fd;
      this.#fd = -1;
      this.#fs!.closeSync(fd);
    }
  }

  #end(stop: Stop): false {
    this.stop = stop;
    this.#loaded = false;
    return false;
  }

  /**
   * Make file bytes [pos, pos + n) readable in buf, keeping what the window
   * has of them and filling the rest of the window from the file. False if
   * the file ends before pos + n (then `size` is lowered to where it ends).
   */
  #window(pos: number, n: number): boolean {
    if (pos >= this.#bufAt && pos + n <= this.#bufAt + this.#bufLen) return true;
    if (!this.#fs) {
      this.size = Math.min(this.size, this.#bufLen);
      return false;
    }
    const keepFrom = Math.max(pos, this.#bufAt);
    const kept = pos >= this.#bufAt ? Math.max(0, this.#bufAt + this.#bufLen - keepFrom) : 0;
    let target = this.buf;
    if (n > target.length) target = Buffer.allocUnsafe(n);
    else if (this.#fresh) target = Buffer.allocUnsafe(Math.max(n, Math.min(this.buf.length, this.size - pos)));
    if (kept > 0) this.buf.copy(target, 0, keepFrom - this.#bufAt, keepFrom - this.#bufAt + kept);
    this.buf = target;
    this.#bufAt = pos;
    this.#bufLen = kept;
    const want = Math.min(target.length, this.size - pos);
    while (this.#bufLen < want) {
      const got = this.#fs.readSync(this.#fd, target, this.#bufLen, want - this.#bufLen, pos + this.#bufLen);
      if (got === 0) {
        // The file shrank under us (truncated by another program): what is
        // left is all there is.
        this.size = pos + this.#bufLen;
        return this.#bufLen >= n;
      }
      this.#bufLen += got;
    }
    return this.#bufLen >= n;
  }
}

/**
 * Where the whole records of the open file `fd` (of `size` bytes) end, and
 * why they end there: for the writer's recovery at open. Reads through `fs`
 * in chunks of at most READ_CHUNK_BYTES and skips payloads by their length.
 * The descriptor stays open (the caller owns it).
 *
 * @example
 * ```ts
 * const { end, stop } = scanWholeRecords(nodeFs, fd, fstatSync(fd).size);
 * if (stop === 'bad-length') throw new CorruptLogError(path, end, 'bad-length');
 * if (stop === 'torn-tail') cutTornTail(end);
 * ```
 */
export function scanWholeRecords(fs: FsOps, fd: number, size: number): { end: number; stop: StopReason } {
  // A cursor closes its descriptor; this one is borrowed, so close is never called.
  const cursor = new RecordCursor({ fs, fd, size });
  while (cursor.next());
  const stop = cursor.stop!;
  return { end: stop.offset, stop: stop.reason };
}
