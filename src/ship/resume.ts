/**
 * Where a shipper resumes (issue 12, item 3): never before a record the
 * stream already holds, never after one it lacks.
 *
 * The checkpoint says which position the server had acknowledged
 * contiguously, and the stream sequence of that message. Messages published
 * after it may have been acknowledged too, before a crash stopped the
 * checkpoint write: the shipper asks the stream for the next message on its
 * subject after that sequence, again and again, and moves on while each one
 * starts exactly where the previous ended. So a crash between an ack and the
 * checkpoint never republishes, whether or not the duplicate window has
 * passed. Without a checkpoint (first run, or the file was lost), or when
 * the stream's last sequence is below the checkpoint's (it lost messages, or
 * was made again), it asks for the last message on the subject and resumes
 * after it.
 *
 * If a message is missing in the middle (a server that lost a message in
 * flight across a reconnect but stored a later one), the walk stops at the
 * gap and returns `stopAt`, the first position of the later message: the
 * shipper republishes the gap up to exactly there, then walks again, so each
 * record is in the stream once (that later message then precedes the gap's
 * records in the stream; see docs/SHIPPING.md).
 */
import type { JetStreamManager, StoredMsg } from 'nats';
import type { Position } from '../index.js';
import { ERR_SHIP_SUBJECT_TAKEN, codedError } from './errors.js';
import { comparePositions, readMeta, type MessageMeta } from './framing.js';

export interface ResumePoint {
  /** First record to ship; undefined: the oldest record of the log. */
  position: Position | undefined;
  /** Stream sequence of the message that ends at `position` (0: none). */
  streamSeq: number;
  /** Ship only records before this position, then resume again (a gap). */
  stopAt?: Position;
}

function isNoMessage(err: unknown): boolean {
  const e = err as { code?: string; api_error?: { err_code?: number } };
  return e.api_error?.err_code === 10037 || e.code === '404';
}

async function getOrUndefined(jsm: JetStreamManager, stream: string, query: object): Promise<StoredMsg | undefined> {
  try {
    // next_by_subj is in the server's API (2.9+) but not in this client's MsgRequest type.
    return await jsm.streams.getMessage(stream, query as never);
  } catch (err) {
    if (isNoMessage(err)) return undefined;
    throw err;
  }
}

function metaOf(msg: StoredMsg, stream: string, subject: string, log: string): MessageMeta {
  const meta = readMeta((name) => msg.header.get(name), `Message ${msg.seq} of stream "${stream}"`);
  if (meta.log !== log) {
    throw codedError(
      ERR_SHIP_SUBJECT_TAKEN,
      `Subject "${subject}" of stream "${stream}" already carries log "${meta.log}" (message ${msg.seq}); ship each log under its own subject, or pass the same log id`,
    );
  }
  return meta;
}

/** Find where to resume shipping log `log` on `subject`, from the checkpoint (if any) and the stream. */
export async function findResumePoint(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  log: string,
  checkpoint: { position: Position; streamSeq: number } | undefined,
  normalize: (p: Position) => Position,
): Promise<ResumePoint> {
  if (checkpoint && checkpoint.streamSeq > 0) {
    // A stream whose last sequence is below the checkpoint's lost messages it
    // had acknowledged (a server that crashed before syncing) or was deleted
    // and made again: trust what it holds now, not the checkpoint.
    const { state } = await jsm.streams.info(stream);
    if (state.last_seq < checkpoint.streamSeq) checkpoint = undefined;
  }
  if (!checkpoint) {
    const last = await getOrUndefined(jsm, stream, { last_by_subj: subject });
    if (!last) return { position: undefined, streamSeq: 0 };
    return { position: metaOf(last, stream, subject, log).next, streamSeq: last.seq };
  }
  let { position } = checkpoint;
  let seq = checkpoint.streamSeq;
  // Messages that start beyond `position` (after a gap), by first position.
  const ahead = new Map<string, { meta: MessageMeta; seq: number }>();
  const key = (p: Position): string => `${p.seq}:${p.offset}`;
  let lastContiguous = checkpoint.streamSeq;
  for (;;) {
    const msg = await getOrUndefined(jsm, stream, { seq: seq + 1, next_by_subj: subject });
    if (!msg) break;
    seq = msg.seq;
    const meta = metaOf(msg, stream, subject, log);
    let order = comparePositions(meta.first, position);
    // The end of a backup ({seq, size}) and the start of the next ({seq + 1, 0}) are one place.
    if (order > 0 && comparePositions(meta.first, normalize(position)) === 0) order = 0;
    if (order > 0) ahead.set(key(meta.first), { meta, seq: msg.seq });
    else if (order === 0) position = meta.next;
    // order < 0: a record range already counted (a message stored twice after its window).
    if (ahead.size === 0) lastContiguous = msg.seq;
    // A gap just filled: the messages stored beyond it now follow on.
    for (;;) {
      const at = ahead.has(key(position)) ? position : ahead.size > 0 ? normalize(position) : position;
      const next = ahead.get(key(at));
      if (!next) break;
      ahead.delete(key(at));
      position = next.meta.next;
    }
  }
  if (ahead.size === 0) return { position, streamSeq: seq };
  let stopAt: Position | undefined;
  let firstSeq = Infinity;
  for (const { meta, seq: s } of ahead.values()) {
    if (!stopAt || comparePositions(meta.first, stopAt) < 0) stopAt = meta.first;
    firstSeq = Math.min(firstSeq, s);
  }
  // The next walk must see the messages still ahead: start it before them.
  return { position, streamSeq: Math.min(lastContiguous, firstSeq - 1), stopAt: stopAt! };
}
