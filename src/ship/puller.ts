/**
 * pull(): the other direction (issue 12, item 4). Read a stream (many
 * machines' subjects) and append each record to a local binary log, exactly
 * once across crashes of the puller, so `binlog cat`, follow() and the rest
 * work on the central copy.
 *
 * The local log and the stream are kept in step by a checkpoint beside the
 * log: the last stream sequence whose records are all in the log, and the
 * log's end position just after them. Records are appended first, the
 * checkpoint written after (records flushed to the OS first). After a crash,
 * the records beyond the checkpoint's position are counted (k): they are the
 * first k records of the messages after its stream sequence, so those are
 * skipped and the rest appended. The puller holds the log's lock, so nothing
 * else appends to it meanwhile. Messages are applied in stream order, so the
 * records of one source keep their order.
 */
import { resolve } from 'node:path';
import { startJob, type Job } from './job.js';
import { BinaryLogger, openCursor, type Position } from '../index.js';
import { connectNats, type NatsOptions } from './connection.js';
import { pullCheckpointPath, readCheckpoint, writeCheckpoint, type PullCheckpoint } from './checkpoint.js';
import { HEADER_ALLOWANCE_BYTES, checkBody, forEachPayload, readMeta } from './framing.js';
import { TRANSIENT_WAIT_MS, retryTransient } from './stream.js';
import { consumeOrdered } from './consume.js';

export interface PullOptions extends NatsOptions {
  /** Stream to read. Required. */
  stream: string;
  /** Subject filter (`logs.>`, `logs.web1`). Defaults to `>`: every subject of the stream. */
  filter?: string;
  /** Pull what the stream holds now, then resolve. Defaults to false: follow the stream until stopped. */
  once?: boolean;
  /** maxFileSize of the local log. Defaults to 64 MiB. */
  maxFileSize?: number;
  /**
   * Ms between checkpoint writes while pulling (and always at the end).
   * Defaults to 1000. Appended records reach the OS (and readers of the
   * local log) within 200 ms either way: the log is flushed on its own timer.
   */
  checkpointInterval?: number;
  /**
   * Most message bytes asked of the server at once (the client holds up to
   * about twice this: what it received and is writing, and what it asked
   * for next). Raised to four times the server's max_payload if below it,
   * so that a request always fits the largest message. Defaults to 4 MiB.
   */
  pullWindowBytes?: number;
  /** Stops pulling (as stop() does). */
  signal?: AbortSignal;
}

export interface PullResult {
  /** Records appended to the local log in this run. */
  records: number;
  /** Last stream sequence applied. */
  streamSeq: number;
}

/** A running puller: stop() it, await its `done`. */
export type Puller = Job<PullResult>;

/**
 * Pull the records of `stream` into the local log whose current file is `path`.
 *
 * @throws (through `done`) ERR_NATS_CLIENT_MISSING, ERR_NATS_CONNECT,
 *   ERR_NATS_AUTH, ERR_PULL_BAD_MESSAGE, ERR_LOGGER_PATH_IN_USE.
 * @example
 * ```ts
 * const { done } = pull('./central/all.bin', { servers: 'nats://127.0.0.1:4222', stream: 'LOGS', once: true });
 * console.log(await done);
 * ```
 */
export function pull(path: string, options: PullOptions): Puller {
  return startJob(options.signal, (signal) => run(resolve(path), options, signal));
}

/**
 * Walk `count` records from `from`; returns the position after the last (or
 * `from`) and how many there were. A zero-copy cursor: this runs at every
 * checkpoint over what was appended since the last, and reading that through
 * fresh buffers (readLog's) made tens of MB of garbage a second.
 */
function skipRecords(path: string, from: Position, count = Infinity): { end: Position; seen: number } {
  let end = from;
  let seen = 0;
  if (count === 0) return { end, seen };
  using cursor = openCursor(path, { from });
  while (cursor.next()) {
    end = cursor.nextPosition;
    if (++seen >= count) break;
  }
  return { end, seen };
}

/** Room for a message's subject and reply in a pull request's byte budget (the server counts them). */
const SUBJECT_ALLOWANCE_BYTES = 64 << 10;

/** Appended records reach the OS at least this often (ms), whatever checkpointInterval is. */
const VISIBLE_MS = 200;

/** Test hook: SIGKILL this process after appending the records of the Nth message, before its checkpoint. */
const KILL_AFTER_MESSAGES = Number(process.env.BINLOG_PULL_TEST_KILL_AFTER_MESSAGES ?? 0);

async function run(path: string, options: PullOptions, signal: AbortSignal): Promise<PullResult> {
  const { stream, filter = '>', once = false, maxFileSize = 64 << 20, checkpointInterval = 1000, pullWindowBytes = 4 << 20 } = options;
  const { nats, nc } = await connectNats(options, !once);
  // Records reach the OS within VISIBLE_MS; the checkpoint is written less
  // often, because each write counts the records appended since the last
  // one with a new cursor (a 1 MiB read buffer per file: off-heap garbage
  // that V8 is slow to collect).
  // Every 200 ms, that kept a 3 x W1 backlog's pull at 103-133 MB of RSS;
  // every 1 s, 93 MB (docs/SHIPPING.md, "Memory").
  let logger: BinaryLogger;
  try {
    logger = new BinaryLogger(path, { maxFileSize, durability: 'buffered', flushInterval: Math.min(VISIBLE_MS, checkpointInterval) });
  } catch (err) {
    // The open connection would keep the process alive (it reconnects when following).
    await nc.close().catch(() => {});
    throw err;
  }
  const result: PullResult = { records: 0, streamSeq: 0 };
  const ckPath = pullCheckpointPath(path, stream, filter);
  try {
    let ck = readCheckpoint<PullCheckpoint>(ckPath);
    if (!ck) {
      // A first run starts after whatever the log holds: those records are not the stream's.
      ck = { version: 1, stream, filter, streamSeq: 0, position: skipRecords(path, { seq: 0, offset: 0 }).end };
      writeCheckpoint(ckPath, ck);
    }
    // Records appended after the checkpoint, before a crash: the first ones of the messages after it.
    let toSkip = skipRecords(path, ck.position).seen;
    let beyond = toSkip;
    let appliedSeq = ck.streamSeq;
    result.streamSeq = appliedSeq;
    let lastWrite = Date.now();
    const save = (): void => {
      if (appliedSeq === ck!.streamSeq) return;
      logger.flush();
      const { end, seen } = skipRecords(path, ck!.position, beyond);
      if (seen !== beyond) throw new Error(`Local log "${path}" lost records the puller appended (expected ${beyond} after ${JSON.stringify(ck!.position)}, found ${seen}); is another program deleting its backups?`);
      ck = { version: 1, stream, filter, streamSeq: appliedSeq, position: end };
      writeCheckpoint(ckPath, ck);
      beyond = 0;
      lastWrite = Date.now();
    };
    const jsm = await nc.jetstreamManager({ checkAPI: false });
    /** True if the stream holds a message for the filter after the last one applied. */
    const more = async (): Promise<boolean> =>
      retryTransient(() => jsm.streams.getMessage(stream, { seq: appliedSeq + 1, next_by_subj: filter } as never), TRANSIENT_WAIT_MS).then(
        () => true,
        (err: unknown) => {
          if ((err as { api_error?: { err_code?: number } }).api_error?.err_code === 10037) return false;
          throw err;
        },
      );
    if (once && !(await more())) return result;
    // Bounded in bytes, not only messages: 512 messages of 1 MiB asked at
    // once is 512 MiB the server pushes at us; past its max_pending (64 MB)
    // it cuts the connection as a slow consumer and the consumer stalls. A
    // request must fit the largest message whole, and the client asks again
    // when 3/4 of the window is still due, for the last quarter: so the
    // window is at least four of the largest messages (else it spins on
    // requests too small for the next message).
    const maxBytes = Math.max(pullWindowBytes, 4 * (nc.info!.max_payload + HEADER_ALLOWANCE_BYTES + SUBJECT_ALLOWANCE_BYTES));
    // A cluster electing a leader, or with a node down, may not answer at once: consumeOrdered waits that out.
    const messages = await consumeOrdered(nats, nc, { stream, filter, startSeq: appliedSeq + 1, maxBytes });
    const write = (payload: Buffer): void => void logger.write(payload);
    const onAbort = (): void => void messages.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    // With --once, the last message's pending count of 0 ends the loop; should
    // that never come (a consumer reset), ask the stream every few seconds.
    const watchdog = once
      ? setInterval(() => {
          more().then((yes) => yes || messages.stop(), () => {});
        }, 3000)
      : undefined;
    // A burst followed by silence must not stay in memory until the next
    // message: records appended and not yet flushed are invisible to readers
    // of the central log. So save on a timer too, between messages (save()
    // runs between two iterations, when every message so far is written whole).
    let saveError: unknown;
    const saver = setInterval(() => {
      try {
        if (Date.now() - lastWrite >= checkpointInterval) save();
      } catch (err) {
        saveError ??= err;
        void messages.stop();
      }
    }, checkpointInterval);
    let applied = 0;
    try {
      for await (const m of messages) {
        const where = `Message ${m.seq} of stream "${stream}"`;
        const meta = readMeta((name) => m.headers?.get(name) ?? '', where);
        // Checked whole before any of it is appended: a bad message appends nothing.
        checkBody(m.data, meta, where);
        const skip = Math.min(toSkip, meta.count);
        toSkip -= skip;
        forEachPayload(m.data, meta, skip, write);
        beyond += meta.count - skip;
        result.records += meta.count - skip;
        appliedSeq = result.streamSeq = m.seq;
        if (KILL_AFTER_MESSAGES > 0 && ++applied === KILL_AFTER_MESSAGES) {
          logger.flush();
          process.kill(process.pid, 'SIGKILL');
        }
        if (Date.now() - lastWrite >= checkpointInterval) save();
        if ((once && m.info.pending === 0) || signal.aborted) break;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      clearInterval(watchdog);
      clearInterval(saver);
      void messages.stop();
    }
    if (saveError) throw saveError;
    save();
    return result;
  } finally {
    logger.close();
    await nc.close().catch(() => {});
  }
}
