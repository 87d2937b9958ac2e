/**
 * The writer's scan of the current file at open: where do the whole
 * records end, and why do they stop there? The one place the writer walks
 * record headers.
 *
 * TODO(merge): the reader branch adds the record cursor's
 * `scanWholeRecords(fs, fd, size)` with this very signature; switch the
 * import in recover.ts to it and delete this file.
 */
import type { FsOps } from '../fsops.js';
import { HEADER_BYTES, MAX_PAYLOAD_BYTES, readHeader } from '../format.js';

/** Chunk size for scanning the current file. */
const SCAN_CHUNK_BYTES = 1 << 20;

/**
 * Why the whole records stop where they do:
 * - `'clean'`: at the end of the file;
 * - `'torn-tail'`: a prefix of a possible record follows (a write cut short);
 * - `'bad-length'`: a header declares more than MAX_PAYLOAD_BYTES and runs
 *   past the end of the file: no writer produced it, it is not a torn write.
 */
export type ScanStop = 'clean' | 'torn-tail' | 'bad-length';

/** Where the whole records of a file end, and why. */
export interface WholeRecords {
  /** Offset just past the last whole record. */
  readonly end: number;
  readonly stop: ScanStop;
}

/**
 * Walk the records of the file open at `fd` (`size` bytes), a chunk at a
 * time. A record longer than the chunk is skipped by its length (checked
 * against the file size) rather than read into memory.
 */
export function scanWholeRecords(fs: FsOps, fd: number, size: number): WholeRecords {
  const chunk = Buffer.allocUnsafe(Math.min(Math.max(size, HEADER_BYTES), SCAN_CHUNK_BYTES));
  let pos = 0; // start of the next record in the file
  while (pos < size) {
    if (size - pos < HEADER_BYTES) return { end: pos, stop: 'torn-tail' };
    const got = fs.readSync(fd, chunk, 0, Math.min(chunk.length, size - pos), pos);
    if (got < HEADER_BYTES) return { end: pos, stop: 'torn-tail' }; // the file shrank under us
    let at = 0; // offset in chunk of the record at file offset pos
    while (got - at >= HEADER_BYTES) {
      const length = readHeader(chunk, at);
      const next = pos + HEADER_BYTES + length;
      if (next > size) return { end: pos, stop: length > MAX_PAYLOAD_BYTES ? 'bad-length' : 'torn-tail' };
      if (at + HEADER_BYTES + length > got) {
        // Whole in the file but not in this chunk: skip it by its length.
        pos = next;
        break;
      }
      at += HEADER_BYTES + length;
      pos = next;
    }
  }
  return { end: pos, stop: 'clean' };
}
