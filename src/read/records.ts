/**
 * The record grammar, applied: where records start and end, and why a walk
 * stops. With cursor.ts this is the only code that parses record headers
 * (format.ts keeps the header read/write primitives).
 *
 * The rule for a record at offset N declaring a payload of L bytes, in a
 * file of S bytes (docs/FORMAT.md, "possible lengths"):
 * - N + 4 + L <= S: a whole record, whatever L (the original wrote records
 *   of any uint32 length; such files still read);
 * - else, L <= MAX_PAYLOAD_BYTES: a torn tail (a write cut short);
 * - else: a bad length (no writer of this library produced it).
 * Fewer than 4 bytes left is a torn tail too (a length prefix cut short).
 */
import { HEADER_BYTES, MAX_PAYLOAD_BYTES, readHeader } from '../format.js';

/** Why a walk over a file's records stopped. */
export type StopReason = 'clean' | 'torn-tail' | 'bad-length';

/** Where and why a walk stopped: `offset` is just past the last whole record. */
export interface Stop {
  reason: StopReason;
  offset: number;
  /** What is wrong, in words (empty for a clean end). */
  detail: string;
}

/** Bytes read from a file per read(2). */
export const READ_CHUNK_BYTES = 1 << 20;

/**
 * The stop for the record at `offset` declaring `length` payload bytes,
 * which does not fit in the `size` bytes of its file.
 */
export function overrun(offset: number, length: number, size: number): Stop {
  const detail = `a record of ${length} bytes runs past the end of the file (${size} bytes)`;
  if (length > MAX_PAYLOAD_BYTES) {
    return { reason: 'bad-length', offset, detail: `${detail}, and is longer than any record a logger writes (${MAX_PAYLOAD_BYTES} bytes)` };
  }
  return { reason: 'torn-tail', offset, detail };
}

/** The stop for `left` (1 to 3) bytes at `offset`, the end of the file. */
export function shortHeader(offset: number, left: number): Stop {
  return {
    reason: 'torn-tail',
    offset,
    detail: `${left} bytes at the end of the file are not a whole record (a record starts with a ${HEADER_BYTES}-byte length)`,
  };
}

/**
 * Walk whole records in `buf[start, end)`, returning the offset just past
 * the last whole record. Bytes from there to `end` are a torn tail.
 */
export function lastWholeRecordEnd(buf: Uint8Array, start: number, end: number): number {
  return wholeRecords(buf, start, end).end;
}

/**
 * The whole records in `buf[start, end)`: how many, and the offset just
 * past the last of them (bytes from there to `end` are a torn tail).
 */
export function wholeRecords(buf: Uint8Array, start: number, end: number): { count: number; end: number } {
  let pos = start;
  let count = 0;
  while (end - pos >= HEADER_BYTES) {
    const next = pos + HEADER_BYTES + readHeader(buf, pos);
    if (next > end) break;
    pos = next;
    count++;
  }
  return { count, end: pos };
}

/**
 * Given records packed in `buf[start, end)` and `base` bytes already in the
 * current file, return the end offset of the first record after which the
 * file reaches `limit` bytes (the rollover point), or -1 if no record does.
 */
export function rolloverPoint(buf: Uint8Array, start: number, end: number, base: number, limit: number): number {
  if (base + (end - start) < limit) return -1;
  let pos = start;
  while (pos < end) {
    pos += HEADER_BYTES + readHeader(buf, pos);
    if (base + (pos - start) >= limit) return pos;
  }
  return -1;
}
