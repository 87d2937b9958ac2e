/**
 * ship(): publish the records of a log to a NATS JetStream stream, exactly
 * once (issue 12, items 1-3).
 *
 * The shipper reads the log with a zero-copy cursor from its resume point, pass after
 * pass (a pass reads every whole record there is, across rollovers and
 * through .gz backups; a torn tail of the current file ends a pass and is
 * read whole by a later one), and publishes through a Publisher. Every
 * acknowledged contiguous run advances the checkpoint file beside the log,
 * which retention reads. A failed publish (the server restarted, an ack timed
 * out) stops the pass: the shipper waits for what is in flight, asks the
 * stream where it stands again (findResumePoint) and goes on from there.
 */
import { resolve } from 'node:path';
import { startJob, type Job } from './job.js';
import { openCursor, readLog, type Position } from '../index.js';
import { connectNats, type NatsOptions } from './connection.js';
import { readCheckpoint, shipCheckpointPath, writeCheckpoint, type ShipCheckpoint } from './checkpoint.js';
import { ERR_SHIP_RECORD_TOO_LARGE, codedError } from './errors.js';
import { HEADER_ALLOWANCE_BYTES, comparePositions, formatPosition } from './framing.js';
import { Publisher } from './publisher.js';
import { findResumePoint } from './resume.js';
import { TRANSIENT_WAIT_MS, ensureStream, isTransient, type StreamSettings } from './stream.js';

export interface ShipOptions extends NatsOptions, StreamSettings {
  /** Stream to publish into; created if missing. Required. */
  stream: string;
  /** Subject to publish on, one per log (e.g. `logs.<host>`). Required. */
  subject: string;
  /** The log's identity in message ids and the Binlog-Log header. Defaults to the subject. */
  logId?: string;
  /** Ship what the log holds now, then resolve. Defaults to false: follow the log until stopped. */
  once?: boolean;
  /** One record per message (its bare payload) instead of batches. Defaults to false. */
  onePerMessage?: boolean;
  /**
   * Largest batch body in bytes (kept under the server's max_payload).
   * Defaults to 64 KiB: as fast as 1 MiB, and lighter on both ends (the
   * client's copy of each message, and on the pulling side a receive buffer
   * that doubles as a message spanning many socket reads arrives;
   * docs/SHIPPING.md, Memory).
   */
  maxBatchBytes?: number;
  /** Most messages awaiting their ack at once. Defaults to 16 (docs/SHIPPING.md says why). */
  maxInFlight?: number;
  /**
   * Most message bytes awaiting their ack at once (memory: the client holds
   * a copy of each until the socket has written it). Defaults to 2 MiB: at
   * 4 MiB the copies outlive V8's young generation and pile up until a full
   * collection (docs/SHIPPING.md).
   */
  maxInFlightBytes?: number;
  /** Ms to wait for one ack before resyncing. Defaults to 5000. */
  ackTimeout?: number;
  /** Ms between looks at the log when it has nothing new (following). Defaults to 100. */
  pollInterval?: number;
  /** Ms between checkpoint writes while shipping (and always at the end). Defaults to 200. */
  checkpointInterval?: number;
  /** With `once`: give up after this many ms without an ack while failing. Defaults to 60000. */
  giveUpAfter?: number;
  /** Stops shipping (as stop() does). */
  signal?: AbortSignal;
}

export interface ShipResult {
  /** Records acknowledged by the server in this run. */
  records: number;
  /** Messages acknowledged in this run. */
  messages: number;
  /** Where the next run resumes (every record before it is in the stream). */
  position: Position | undefined;
}

/** A running shipper: stop() it, await its `done`. */
export type Shipper = Job<ShipResult>;

/**
 * Ship the log whose current file is `path` to a JetStream stream.
 *
 * @throws (through `done`) ERR_NATS_CLIENT_MISSING, ERR_NATS_CONNECT,
 *   ERR_NATS_AUTH, ERR_SHIP_STREAM, ERR_SHIP_SUBJECT_TAKEN,
 *   ERR_SHIP_RECORD_TOO_LARGE.
 * @example
 * ```ts
 * const shipper = ship('./logs/events.bin', { servers: 'nats://127.0.0.1:4222', stream: 'LOGS', subject: 'logs.web1' });
 * process.once('SIGTERM', () => shipper.stop());
 * await shipper.done;
 * ```
 */
export function ship(path: string, options: ShipOptions): Shipper {
  return startJob(options.signal, (signal) => run(resolve(path), options, signal));
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((res) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      res();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Default largest batch body (maxBatchBytes). */
const DEFAULT_BATCH_BYTES = 64 << 10;

/** Test hook: SIGKILL this process right after the Nth ack, before its checkpoint write (issue 12, item 5). */
const KILL_AFTER_ACKS = Number(process.env.BINLOG_SHIP_TEST_KILL_AFTER_ACKS ?? 0);

async function run(path: string, options: ShipOptions, signal: AbortSignal): Promise<ShipResult> {
  const {
    stream,
    subject,
    logId = subject,
    once = false,
    onePerMessage = false,
    maxBatchBytes = DEFAULT_BATCH_BYTES,
    maxInFlight = 16,
    maxInFlightBytes = 2 << 20,
    ackTimeout = 5000,
    pollInterval = 100,
    checkpointInterval = 200,
    giveUpAfter = TRANSIENT_WAIT_MS,
  } = options;
  const started = Date.now();
  const { nats, nc } = await connectNats(options, !once);
  const result: ShipResult = { records: 0, messages: 0, position: undefined };
  let publisher: Publisher | undefined;
  try {
    // No API check here: during a leader election it times out; ensureStream below waits that out.
    const jsm = await nc.jetstreamManager({ checkAPI: false });
    // A cluster electing a leader, or a server restarting, answers nothing for a while: wait for it.
    for (;;) {
      try {
        await ensureStream(nats, jsm, stream, subject, options);
        break;
      } catch (err) {
        if (!isTransient((err as Error).cause) || signal.aborted || (once && Date.now() - started > giveUpAfter)) throw err;
        await sleep(250, signal);
      }
    }
    // The server's limit is the hard one; the batch size only closes batches (a larger record goes alone).
    const maxBody = nc.info!.max_payload - HEADER_ALLOWANCE_BYTES;
    const ckPath = shipCheckpointPath(path, stream, subject);
    let acked: ShipCheckpoint | undefined = readCheckpoint<ShipCheckpoint>(ckPath);
    let written = acked;
    let lastWrite = 0;
    let acks = 0;
    const save = (force: boolean): void => {
      if (!acked || acked === written) return;
      const now = Date.now();
      if (!force && now - lastWrite < checkpointInterval) return;
      writeCheckpoint(ckPath, acked);
      written = acked;
      lastWrite = now;
    };
    let lastProgress = Date.now();
    publisher = new Publisher(nats, nc, {
      subject,
      log: logId,
      onePerMessage,
      maxBodyBytes: Math.min(maxBatchBytes, maxBody),
      maxInFlight,
      maxInFlightBytes,
      ackTimeout,
      onAck(next, streamSeq, records) {
        if (KILL_AFTER_ACKS > 0 && ++acks === KILL_AFTER_ACKS) process.kill(process.pid, 'SIGKILL');
        acked = { version: 1, log: logId, stream, subject, position: next, streamSeq };
        result.records += records;
        result.messages += 1;
        result.position = next;
        lastProgress = Date.now();
        save(false);
      },
    });
    for (;;) {
      let point;
      try {
        point = await findResumePoint(jsm, stream, subject, logId, acked, (p) => firstRecordAtOrAfter(path, p));
      } catch (err) {
        if ((err as { code?: string }).code?.startsWith('ERR_')) throw err;
        if (signal.aborted) break;
        if (once && Date.now() - lastProgress > giveUpAfter) throw err;
        await sleep(250, signal);
        continue;
      }
      // Even before the first ack, a checkpoint tells retention what to keep.
      point.position ??= { seq: 0, offset: 0 };
      if ((!acked || comparePositions(point.position, acked.position) !== 0 || point.streamSeq !== acked.streamSeq)) {
        acked = { version: 1, log: logId, stream, subject, position: point.position, streamSeq: point.streamSeq };
        save(true);
      }
      result.position = point.position;
      try {
        const before = result.records;
        const end = await shipPasses(path, point.position, point.stopAt, publisher, { once, pollInterval, signal, maxBody, idle: () => save(true) });
        await publisher.drain();
        save(true);
        if (end === 'stopAt') {
          // Filling a gap must ship something, or the walk would find the same gap forever.
          if (result.records === before) throw new Error(`Internal error: no progress filling a gap at ${formatPosition(point.position)} before ${formatPosition(point.stopAt!)} on "${subject}"`);
          continue;
        }
        break;
      } catch (err) {
        await publisher.abandon();
        save(true);
        if ((err as { code?: string }).code === ERR_SHIP_RECORD_TOO_LARGE) throw err;
        if (once && Date.now() - lastProgress > giveUpAfter) throw err;
        if (signal.aborted) break;
        await sleep(250, signal);
      }
    }
    return result;
  } finally {
    publisher?.close();
    await nc.close().catch(() => {});
  }
}

/** The position of the first record at or after `p` in the log, or `p` if there is none yet. */
function firstRecordAtOrAfter(path: string, p: Position): Position {
  for (const entry of readLog(path, { from: p, withPositions: true, encoding: 'buffer' })) return entry.position;
  return p;
}

interface PassSettings {
  once: boolean;
  pollInterval: number;
  signal: AbortSignal;
  /** Largest body a message may have (the server's max_payload less the header allowance): a record over it cannot be shipped. */
  maxBody: number;
  /** Called when a pass found nothing new: the last acks' checkpoint is written then, not held until the next record (retention waits on it). */
  idle: () => void;
}

/** Read and publish from `from`, pass after pass; resolves 'done' (caught up or stopped) or 'stopAt'. */
async function shipPasses(
  path: string,
  from: Position | undefined,
  stopAt: Position | undefined,
  publisher: Publisher,
  s: PassSettings,
): Promise<'done' | 'stopAt'> {
  let position = from;
  let nextSeq = 0;
  let nextOffset = 0;
  for (;;) {
    let progressed = false;
    // A zero-copy cursor: each payload is a view the publisher copies into its message before the next step.
    using cursor = openCursor(path, { from: position });
    while (cursor.next()) {
      // Only a gap fill has a stopAt: the common path builds no position object per record.
      if (stopAt && comparePositions(cursor.position, stopAt) >= 0) return 'stopAt';
      const size = publisher.recordBytes(cursor.length);
      if (size > s.maxBody) {
        const at = cursor.position;
        // Everything before it is shipped and checkpointed; then stop, never skip it.
        await publisher.drain();
        throw codedError(
          ERR_SHIP_RECORD_TOO_LARGE,
          `Record at ${formatPosition(at)} of "${path}" takes ${size} bytes; a message may carry at most ${s.maxBody} (the server's max_payload less ${HEADER_ALLOWANCE_BYTES} for headers). Raise max_payload in the nats-server configuration (up to 64MB, e.g. "max_payload: 8MB")`,
        );
      }
      // Awaited only when a message went out and the window is full: no promise per record.
      const wait = publisher.add(cursor);
      if (wait) await wait;
      // Numbers, not the object: it does not escape, so V8 allocates nothing for it.
      const next = cursor.nextPosition;
      nextSeq = next.seq;
      nextOffset = next.offset;
      progressed = true;
      if (s.signal.aborted) return 'done';
    }
    if (progressed) position = { seq: nextSeq, offset: nextOffset };
    await publisher.flush();
    if (s.signal.aborted || (s.once && !progressed)) return 'done';
    if (!progressed) {
      s.idle();
      await sleep(s.pollInterval, s.signal);
    }
  }
}
