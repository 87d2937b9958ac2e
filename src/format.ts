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

/**
 * The largest payload this library writes: 256 MiB (268,435,456 bytes).
 * A length above it that runs past the end of its file is not a torn write
 * but a foreign or corrupt file (reason `'bad-length'`); a record that fits
 * in its file is read whatever its length. See docs/FORMAT.md, "possible".
 */
export const MAX_PAYLOAD_BYTES = 0x1000_0000;

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
