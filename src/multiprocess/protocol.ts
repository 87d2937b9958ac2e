/**
 * The wire protocol between a client process and the owner of a log: what
 * both sides must agree on, in one place (as format.ts is for files).
 *
 * The stream is the log's own framing: `[uint32 BE length][payload]`, back
 * to back. The first payload byte is the frame type:
 *
 *   frame   := length:uint32 type:uint8 body:uint8[length-1]
 *   HELLO   client -> owner, first frame: JSON { token, pid, options, data? }
 *           (data: { socket, nonce }, the client's data socket: data-listener.ts);
 *           owner -> client's data socket, first frame: JSON { nonce }
 *   WELCOME owner -> client: JSON { pid }, the handshake succeeded
 *   BATCH   client -> owner: id:uint32 records   (records framed as on disk)
 *   ACK     owner -> client: id:uint32 count:uint32 (batch `id` is in the file)
 *   ERROR   owner -> client: JSON { id, code, message, syscall?, written }
 *   STATUS  either way: `{}` asks, JSON { pid, clients } answers
 *   FIFO    client -> owner: JSON { request, reply } (two FIFO paths);
 *           owner -> client: JSON { ok, reason? } (see fifo-owner.ts)
 *   WAKE    agent -> its caller, on the reply FIFO only: the owner is gone
 *           or stopped, send the batch in flight through the agent
 *
 * On a FIFO pair (fifo-owner.ts, fifo-caller.ts) the request FIFO carries
 * BATCH frames only, and the reply FIFO ACK, ERROR and WAKE frames.
 *
 * A BATCH's records are checked to end exactly at the frame's end before any
 * byte is written: a garbage or oversized frame closes the connection and
 * writes nothing.
 */
import { HEADER_BYTES, readHeader, writeHeader } from '../format.js';
import { wholeRecords } from '../read/records.js';

/** The type byte of a frame, after its length. */
export const FrameType = {
  /** client -> owner: the token, the client's pid and role, its file-shaping options. */
  HELLO: 1,
  /** owner -> client: accepted. */
  WELCOME: 2,
  /** client -> owner: an id and whole framed records. */
  BATCH: 3,
  /** owner -> client: a batch id and how many records are in the file. */
  ACK: 4,
  /** owner -> client: a batch failed (the OS error), or the connection is refused. */
  ERROR: 5,
  /** owner -> monitor: how many clients are connected. */
  STATUS: 6,
  /** client -> owner: the paths of a FIFO pair; owner -> client: taken or not. */
  FIFO: 7,
  /** agent -> caller, on the reply FIFO: stop waiting, the owner is gone or stopped. */
  WAKE: 8,
} as const;

/**
 * The largest BATCH frame sent on a request FIFO: PIPE_BUF, which POSIX
 * writes atomically and every pipe holds when empty (Linux gives a pipe of
 * a user over pipe-user-pages-soft a single page). The caller writes a
 * frame only into an empty pipe (one batch in flight), so its blocking
 * write(2) never waits for a reader, also when the owner is stopped.
 * Larger batches go through the agent.
 */
export const FIFO_FRAME_BYTES = 4096;

/** Bytes of a BATCH or ACK header after the type byte. */
const ID_BYTES = 4;

/**
 * The largest frame either side accepts: a batch of records (a buffered
 * client's staging buffer) or one large record. A record that does not fit
 * is refused by the client's write() with ERR_OUT_OF_RANGE.
 */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** The largest payload a client process can hand to the owner. */
export const MAX_CLIENT_PAYLOAD_BYTES = MAX_FRAME_BYTES - 1 - ID_BYTES - HEADER_BYTES;

/** A FrameType.HELLO must arrive this soon after connecting, or the owner hangs up. */
export const HELLO_TIMEOUT_MS = 2000;

/** Frame a JSON message of `type`. */
export function jsonFrame(type: number, value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const out = Buffer.allocUnsafe(HEADER_BYTES + 1 + body.length);
  writeHeader(out, 0, 1 + body.length);
  out[HEADER_BYTES] = type;
  body.copy(out, HEADER_BYTES + 1);
  return out;
}

/** Bytes of a FrameType.BATCH frame before its records. */
export const BATCH_HEAD_BYTES = HEADER_BYTES + 1 + ID_BYTES;

/** Write the head of a FrameType.BATCH frame carrying `recordBytes` bytes of framed records into `out[0, BATCH_HEAD_BYTES)`. */
export function writeBatchHead(out: Uint8Array, id: number, recordBytes: number): void {
  writeHeader(out, 0, 1 + ID_BYTES + recordBytes);
  out[HEADER_BYTES] = FrameType.BATCH;
  writeHeader(out, HEADER_BYTES + 1, id >>> 0);
}

/** The head of a FrameType.BATCH frame carrying `recordBytes` bytes of framed records. */
export function batchHead(id: number, recordBytes: number): Buffer {
  const head = Buffer.allocUnsafe(BATCH_HEAD_BYTES);
  writeBatchHead(head, id, recordBytes);
  return head;
}

export function ackFrame(id: number, count: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + 1 + 2 * ID_BYTES);
  writeHeader(out, 0, 1 + 2 * ID_BYTES);
  out[HEADER_BYTES] = FrameType.ACK;
  out.writeUInt32BE(id >>> 0, HEADER_BYTES + 1);
  out.writeUInt32BE(count >>> 0, HEADER_BYTES + 1 + ID_BYTES);
  return out;
}

/** A frame taken off the stream: its type and its body (after the type byte). */
export interface Frame {
  type: number;
  body: Buffer;
}

export function parseJson(frame: Frame): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(frame.body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A FrameType.BATCH body split into its id and records, or undefined if the records are not whole. */
export function parseBatch(body: Buffer): { id: number; records: Buffer; count: number } | undefined {
  if (body.length < ID_BYTES) return undefined;
  const records = body.subarray(ID_BYTES);
  const whole = wholeRecords(records, 0, records.length);
  if (whole.end !== records.length) return undefined;
  return { id: body.readUInt32BE(0), records, count: whole.count };
}

export function parseAck(body: Buffer): { id: number; count: number } | undefined {
  if (body.length !== 2 * ID_BYTES) return undefined;
  return { id: body.readUInt32BE(0), count: body.readUInt32BE(ID_BYTES) };
}

/** Records in `buf`, which holds whole records only. */
export function countRecords(buf: Uint8Array): number {
  return wholeRecords(buf, 0, buf.length).count;
}

/** Why a stream of frames was refused. */
export class ProtocolError extends Error {
  readonly code = 'ERR_BINLOG_PROTOCOL';
}

/**
 * Cuts a byte stream into frames. Refuses (throws ProtocolError) an empty
 * frame or one over `maxFrame` bytes as soon as its length is read, before
 * buffering it.
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #bytes = 0;
  readonly #maxFrame: number;

  constructor(maxFrame = MAX_FRAME_BYTES) {
    this.#maxFrame = maxFrame;
  }

  /** Add bytes read from the socket; returns the whole frames now available. */
  push(data: Buffer): Frame[] {
    this.#chunks.push(data);
    this.#bytes += data.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.#bytes < HEADER_BYTES) break;
      const head = this.#peek(HEADER_BYTES);
      const length = readHeader(head, 0);
      if (length === 0 || length > this.#maxFrame) throw new ProtocolError(`frame of ${length} bytes refused`);
      if (this.#bytes < HEADER_BYTES + length) break;
      const whole = this.#take(HEADER_BYTES + length);
      frames.push({ type: whole[HEADER_BYTES]!, body: whole.subarray(HEADER_BYTES + 1) });
    }
    return frames;
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first;
    const merged = Buffer.concat(this.#chunks);
    this.#chunks = [merged];
    return merged;
  }

  #take(n: number): Buffer {
    const buf = this.#peek(n);
    const out = buf.subarray(0, n);
    if (buf.length === n) this.#chunks.shift();
    else this.#chunks[0] = buf.subarray(n);
    this.#bytes -= n;
    return out;
  }
}
