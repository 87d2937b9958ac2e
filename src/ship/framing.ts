/**
 * What a shipper and a puller agree on: the message id, the headers and the
 * message body (issue 12, items 1-3).
 *
 * A batched message's body is records framed exactly as in the log file
 * (`[u32 BE length][payload]`...), so it can be appended or checked with the
 * same rules; a one-record message's body is the bare payload. Either way the
 * headers say which log the records come from, the position of the first
 * record, the position just after the last, and how many there are.
 */
import type { Position } from '../index.js';
import { RecordCursor } from '../read/cursor.js';
import { ERR_PULL_BAD_MESSAGE, codedError } from './errors.js';

/** Which log the records come from (its identity; by default the subject). */
export const HDR_LOG = 'Binlog-Log';
/** Position of the message's first record, `<seq>:<offset>`. */
export const HDR_FIRST = 'Binlog-Position';
/** Position just after its last record, where the next message starts. */
export const HDR_NEXT = 'Binlog-Next';
/** Number of records in the message. */
export const HDR_COUNT = 'Binlog-Count';
/** `records` (framed as in the log file) or `payload` (one bare record). */
export const HDR_BODY = 'Binlog-Body';
/** The header JetStream de-duplicates on. */
export const HDR_MSG_ID = 'Nats-Msg-Id';

export type BodyKind = 'records' | 'payload';

/** Bytes kept free under max_payload for the headers of one message. */
export const HEADER_ALLOWANCE_BYTES = 1024;

export function formatPosition(p: Position): string {
  return `${p.seq}:${p.offset}`;
}

export function parsePosition(text: string | undefined): Position | undefined {
  if (!text) return undefined;
  const m = /^(\d{1,16}):(\d{1,16})$/.exec(text);
  if (!m) return undefined;
  const seq = Number(m[1]);
  const offset = Number(m[2]);
  return Number.isSafeInteger(seq) && Number.isSafeInteger(offset) ? { seq, offset } : undefined;
}

/** Compare positions: negative if a is before b. */
export function comparePositions(a: Position, b: Position): number {
  return a.seq !== b.seq ? a.seq - b.seq : a.offset - b.offset;
}

/**
 * The message id: the log's identity and the first record's position.
 * A position names one record forever (it is stable across rollover), so
 * the same record republished gets the same id and the server drops it.
 */
export function messageId(log: string, first: Position): string {
  return `${log}@${formatPosition(first)}`;
}

/** What a message's headers say, read by the puller and by the shipper when it resumes. */
export interface MessageMeta {
  log: string;
  first: Position;
  next: Position;
  count: number;
  body: BodyKind;
}

/** Parse the headers of a message a shipper wrote; throws ERR_PULL_BAD_MESSAGE naming the stream sequence. */
export function readMeta(get: (name: string) => string, where: string): MessageMeta {
  const log = get(HDR_LOG);
  const first = parsePosition(get(HDR_FIRST));
  const next = parsePosition(get(HDR_NEXT));
  const count = Number(get(HDR_COUNT));
  const body = get(HDR_BODY);
  if (!log || !first || !next || !Number.isSafeInteger(count) || count < 1 || (body !== 'records' && body !== 'payload')) {
    throw codedError(ERR_PULL_BAD_MESSAGE, `${where} was not written by binlog ship (missing or bad ${HDR_LOG}/${HDR_FIRST}/${HDR_NEXT}/${HDR_COUNT}/${HDR_BODY} headers)`);
  }
  return { log, first, next, count, body };
}

/**
 * Check that a message body holds what its headers say: a `records` body
 * whole records and exactly `count` of them. Nothing is allocated per
 * record. Throws ERR_PULL_BAD_MESSAGE.
 */
export function checkBody(data: Uint8Array, meta: MessageMeta, where: string): void {
  if (meta.body === 'payload') {
    if (meta.count !== 1) throw codedError(ERR_PULL_BAD_MESSAGE, `${where}: a payload body must hold 1 record, the headers say ${meta.count}`);
    return;
  }
  const cursor = new RecordCursor({ data: asBuffer(data) });
  let count = 0;
  while (cursor.next()) count++;
  const stop = cursor.stop;
  if (stop && stop.reason !== 'clean') throw codedError(ERR_PULL_BAD_MESSAGE, `${where}: not whole records at byte ${stop.offset}: ${stop.detail}`);
  if (count !== meta.count) throw codedError(ERR_PULL_BAD_MESSAGE, `${where}: holds ${count} records, the headers say ${meta.count}`);
}

/**
 * Hand each payload of a body checkBody() accepted to `take`, in order,
 * after the first `skip`: a view into `data`, valid while `data` is. No
 * array of a message's payloads is built (16,000 views for a 1 MiB message
 * of 61-byte records).
 */
export function forEachPayload(data: Uint8Array, meta: MessageMeta, skip: number, take: (payload: Buffer) => void): void {
  if (meta.body === 'payload') {
    if (skip === 0) take(asBuffer(data));
    return;
  }
  const cursor = new RecordCursor({ data: asBuffer(data) });
  for (let i = 0; cursor.next(); i++) if (i >= skip) take(cursor.payload()!);
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
