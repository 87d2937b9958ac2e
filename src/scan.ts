/**
 * Walking the records of one file by their lengths, for the tools that
 * check or summarize a log (verify, stats, tail) rather than read it.
 *
 * A walk allocates one window of at most READ_CHUNK_BYTES (never more than
 * the file holds) and nothing per record: a payload is skipped by its
 * length unless the caller asks for its bytes. Every length is checked
 * against the bytes left in the file before anything is read for it, so
 * any bytes at all give a walk bounded by the file's size.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { HEADER_BYTES, gunzipBackup, readHeader } from './format.js';
import { READ_CHUNK_BYTES } from './reader.js';

/** Random access to a file's bytes through one buffer. */
export interface Source {
  /** Bytes the walk may read; lowered if the file shrinks under it. */
  size: number;
  readonly buf: Buffer;
  /**
   * Index in `buf` of the bytes [pos, pos + n), n <= buf.length; -1 if the
   * file ends before them (then `size` is lowered to where it ends).
   */
  at(pos: number, n: number): number;
  close(): void;
}

/** A window of at most READ_CHUNK_BYTES onto an open file. */
class FileWindow implements Source {
  readonly buf: Buffer;
  size: number;
  #start = 0;
  #length = 0;
  #fd: number;

  constructor(fd: number, size: number) {
    this.#fd = fd;
    this.size = size;
    this.buf = Buffer.allocUnsafe(Math.max(HEADER_BYTES, Math.min(READ_CHUNK_BYTES, size)));
  }

  at(pos: number, n: number): number {
    if (pos >= this.#start && pos + n <= this.#start + this.#length) return pos - this.#start;
    const want = Math.max(0, Math.min(this.buf.length, this.size - pos));
    let got = 0;
    while (got < want) {
      const r = readSync(this.#fd, this.buf, got, want - got, pos + got);
      if (r === 0) break;
      got += r;
    }
    this.#start = pos;
    this.#length = got;
    if (got >= n) return 0;
    if (got < want) this.size = pos + got; // the file shrank under us: what is left is all there is
    return -1;
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}

/** A decompressed backup, whole in memory (as readLog() reads one). */
class MemorySource implements Source {
  size: number;
  constructor(readonly buf: Buffer) {
    this.size = buf.length;
  }
  at(pos: number, n: number): number {
    return pos + n <= this.size ? pos : -1;
  }
  close(): void {}
}

/** What openSource() found: a source, or why the file cannot be walked. */
export type Opened =
  | { source: Source; diskSize: number }
  | { missing: true }
  | { unreadable: string; diskSize: number; corrupt?: boolean };

/**
 * Open a file of a log for a walk. `gzip` files are decompressed whole.
 * Never throws for the file itself: a file that vanished is `missing`, one
 * that cannot be read is `unreadable` with the reason (`corrupt` when a
 * compressed backup does not decompress).
 */
export function openSource(path: string, gzip = false): Opened {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    return { unreadable: `cannot open the file: ${(err as Error).message}`, diskSize: 0 };
  }
  let diskSize = 0;
  try {
    const stat = fstatSync(fd);
    diskSize = stat.size;
    if (!stat.isFile()) {
      closeSync(fd);
      return { unreadable: 'not a regular file', diskSize };
    }
    if (!gzip) return { source: new FileWindow(fd, stat.size), diskSize };
    let data: Buffer;
    try {
      data = gunzipBackup(readFileSync(fd));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).syscall) throw err;
      closeSync(fd);
      return { unreadable: `not a readable gzip file: ${(err as Error).message}`, diskSize, corrupt: true };
    }
    closeSync(fd);
    return { source: new MemorySource(data), diskSize };
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // closed already
    }
    return { unreadable: `cannot read the file: ${(err as Error).message}`, diskSize };
  }
}

/** Where a walk stopped: `end` is just past the last whole record. */
export interface WalkEnd {
  end: number;
  /** Why the bytes from `end` on are not a whole record; undefined when the file ended cleanly. */
  reason?: string;
}

/**
 * Call `onRecord(offset, length)` for each whole record of `src`, in order,
 * and return where the whole records end. Bounded by `src.size`: each step
 * moves forward by at least HEADER_BYTES.
 */
export function walkRecords(src: Source, onRecord: (offset: number, length: number) => void): WalkEnd {
  let pos = 0;
  for (;;) {
    // Invariant: [0, pos) is whole records.
    const left = src.size - pos;
    if (left <= 0) return { end: pos };
    if (left < HEADER_BYTES) {
      return { end: pos, reason: `${left} bytes at the end of the file are not a whole record (a record starts with a ${HEADER_BYTES}-byte length)` };
    }
    const i = src.at(pos, HEADER_BYTES);
    if (i < 0) continue; // shrank: size is lower now
    const length = readHeader(src.buf, i);
    if (length > left - HEADER_BYTES) {
      return { end: pos, reason: `a record of ${length} bytes runs past the end of the file (${src.size} bytes)` };
    }
    onRecord(pos, length);
    pos += HEADER_BYTES + length;
  }
}

/**
 * The payload of the record at `offset` (a copy), its `length` already
 * checked against the file's size by walkRecords(). Undefined if the file
 * shrank under us.
 */
export function readPayload(src: Source, offset: number, length: number): Buffer | undefined {
  const start = offset + HEADER_BYTES;
  const out = Buffer.allocUnsafe(length);
  for (let done = 0; done < length; ) {
    const n = Math.min(src.buf.length, length - done);
    const i = src.at(start + done, n);
    if (i < 0) return undefined;
    src.buf.copy(out, done, i, i + n);
    done += n;
  }
  return out;
}
