/**
 * Staging and framing: payloads become `[length][payload]` records in a
 * staging buffer, ready for a commit path. No file system here.
 */
import { outOfRange } from '../errors.js';
import { HEADER_BYTES, MAX_PAYLOAD_BYTES, writeHeader } from '../format.js';

/**
 * Encode `s` into `buf` at `offset`; the caller made sure it fits. Node's
 * Buffer#utf8Write skips the argument juggling of Buffer#write (about 30 ns
 * a record on the hot path); fall back to write() where it is missing.
 */
const utf8Write: (buf: Buffer, s: string, offset: number) => number =
  typeof (Buffer.prototype as { utf8Write?: unknown }).utf8Write === 'function'
    ? (buf, s, offset) => (buf as unknown as { utf8Write(s: string, offset: number): number }).utf8Write(s, offset)
    : (buf, s, offset) => buf.write(s, offset);

/** Records framed back to back in `buf[0, used)`, waiting for a commit. */
export class Staging {
  readonly buf: Buffer;
  /** Bytes of whole framed records at the start of `buf`. */
  used = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafeSlow(capacity);
  }

  /**
   * Frame `payload` after the staged records. Returns false, staging
   * nothing, if it does not fit in the room left. The payload is checked
   * already (checkPayload).
   */
  tryAppend(payload: string | Uint8Array): boolean {
    const buf = this.buf;
    const at = this.used + HEADER_BYTES;
    let n: number;
    if (typeof payload === 'string') {
      // Three bytes per UTF-16 unit at most: measure only when that may not fit.
      if (payload.length * 3 > buf.length - at && Buffer.byteLength(payload) > buf.length - at) return false;
      n = utf8Write(buf, payload, at);
    } else {
      n = payload.byteLength;
      if (n > buf.length - at) return false;
      buf.set(payload, at);
    }
    writeHeader(buf, at - HEADER_BYTES, n);
    this.used = at + n;
    return true;
  }

  /** True if a record of `payload` could never fit, even in an empty buffer. */
  tooLarge(payload: string | Uint8Array): boolean {
    const room = this.buf.length - HEADER_BYTES;
    if (typeof payload === 'string') return payload.length * 3 > room && Buffer.byteLength(payload) > room;
    return payload.byteLength > room;
  }

  /** After a commit that wrote `done` of `end` bytes: keep the rest staged at the start. */
  keep(done: number, end: number): void {
    if (done > 0) this.buf.copyWithin(0, done, end);
    this.used = end - done;
  }
}

/**
 * Frame one record too large for any staging buffer into a buffer of its
 * own, for the same commit path as staged records.
 *
 * @throws RangeError `ERR_OUT_OF_RANGE` for a payload over MAX_PAYLOAD_BYTES.
 */
export function frameAlone(payload: string | Uint8Array): Buffer {
  const n = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  checkPayloadSize(n);
  const framed = Buffer.allocUnsafe(HEADER_BYTES + n);
  writeHeader(framed, 0, n);
  if (typeof payload === 'string') utf8Write(framed, payload, HEADER_BYTES);
  else framed.set(payload, HEADER_BYTES);
  return framed;
}

/** @throws RangeError `ERR_OUT_OF_RANGE` for a payload of more than MAX_PAYLOAD_BYTES bytes. */
export function checkPayloadSize(bytes: number): void {
  if (bytes > MAX_PAYLOAD_BYTES) throw outOfRange('payload.byteLength', `<= ${MAX_PAYLOAD_BYTES}`, bytes);
}
