/**
 * The record layout, in one place: what writers and readers must agree on.
 * See docs/FORMAT.md.
 *
 *   record :=
 *     length:  uint32         // big-endian, payload bytes
 *     payload: uint8[length]  // UTF-8 for strings
 */
import { gunzipSync } from 'node:zlib';

/** Bytes of the length prefix in front of every payload. */
export const HEADER_BYTES = 4;

/** The largest payload a writer produces: 256 MiB (issue 10). A longer length is not a log. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

/** Write a record's length prefix at `offset`. */
export function writeHeader(buf: Uint8Array, offset: number, length: number): void {
  buf[offset] = length >>> 24;
  buf[offset + 1] = (length >>> 16) & 0xff;
  buf[offset + 2] = (length >>> 8) & 0xff;
  buf[offset + 3] = length & 0xff;
}

/** Read the length prefix at `offset`; the caller checks 4 bytes are there. */
export function readHeader(buf: Uint8Array, offset: number): number {
  return (
    ((buf[offset]! << 24) >>> 0) + ((buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!)
  );
}

/** Bytes a record with a payload of `payloadBytes` takes on disk. */
export function recordBytes(payloadBytes: number): number {
  return HEADER_BYTES + payloadBytes;
}

/**
 * Walk whole records in `buf[start, end)`, returning the offset just past
 * the last whole record. Bytes from there to `end` are a torn tail.
 */
export function lastWholeRecordEnd(buf: Uint8Array, start: number, end: number): number {
  let pos = start;
  while (end - pos >= HEADER_BYTES) {
    const next = pos + HEADER_BYTES + readHeader(buf, pos);
    if (next > end) break;
    pos = next;
  }
  return pos;
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

/**
 * Decompress a gzip-compressed backup, allocating no more than its gzip
 * trailer says it holds (ISIZE, the uncompressed size mod 2^32): a small
 * hostile file cannot make a reader allocate gigabytes. Throws on anything
 * that is not a whole, consistent gzip file.
 */
export function gunzipBackup(data: Buffer): Buffer {
  if (data.length < 18) throw new Error(`a gzip file has at least 18 bytes, this one ${data.length}`);
  const size = data.readUInt32LE(data.length - 4);
  const out = gunzipSync(data, { maxOutputLength: Math.max(size, 1) });
  if (out.length !== size) throw new Error(`it decompresses to ${out.length} bytes, its trailer says ${size}`);
  return out;
}
