/**
 * The commit path of a multi-process log (writer/commit-path.ts): hands
 * framed records to this logger's agent thread (agent.ts) and waits on
 * Atomics.wait until the owner process has them in the file. The agent does
 * the socket I/O in its own event loop, so write() in this thread stays
 * synchronous without a busy loop (as synckit and pino's thread-stream do).
 * One commit costs a hand-over to the agent (the batch is copied into a
 * shared mailbox and the agent woken with Atomics.notify), a round trip over
 * the socket and a wake-up: tens of microseconds (bench/multiprocess.js).
 * A small batch in 'sync' and 'fsync' skips the agent too, once the owner
 * has taken this process's FIFO pair: it goes straight to the owner on a
 * FIFO, and the caller sleeps in a blocking read(2) for the answer
 * (fifo-caller.ts). While this process is the owner, commits skip the
 * agent and go straight to the files (owner-path.ts).
 *
 * Delivery: a batch the owner acknowledged is in the file. A batch in
 * flight when the owner died is sent again to the next owner, so it may be
 * in the file twice (at-least-once), never lost silently. A batch the owner
 * refused (ENOSPC, ...) comes back as that error, thrown by the commit,
 * with `committed` at the bytes that did reach the file: the logger keeps
 * the rest staged, exactly as with one process.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { loggerClosed, outOfRange } from '../errors.js';
import { HANDLE_TAG, SharedState, type LoggerHandle } from '../shared.js';
import type { CommitPath, CommitPathRequest } from '../writer/commit-path.js';
import type { CommitEvents } from '../writer/events.js';
import { isBuffered, isFsync, SYNC_STAGING_BYTES, type Settings } from '../writer/options.js';
import { CallerFifo } from './fifo-caller.js';
import { OwnerDirectPath, ownerSettings, type OwnerGrant } from './owner-path.js';
import { BATCH_HEAD_BYTES, MAX_CLIENT_PAYLOAD_BYTES, writeBatchHead } from './protocol.js';
import {
  ACKED,
  CTL_SLOTS,
  FIFO_LIVE,
  OWNER_EPOCH,
  ROLE,
  ROLE_CLOSED,
  ROLE_FAILED,
  ROLE_OWNER,
  ROLE_STARTING,
  SENT,
  SENT_BYTES,
  WAKE,
  type AgentData,
  type AgentMessage,
  type FifoGrant,
  type ToAgent,
} from './slots.js';

/** Re-check the agent this often while waiting (it cannot die alone, but a hang must show). */
const WAIT_SLICE_MS = 1000;

const DEBUG = process.env.BINLOG_DEBUG_AGENT === '1';

export class ProcessCommitPath implements CommitPath {
  readonly owner = false;
  readonly #path: string;
  readonly #settings: Settings;
  readonly #ctl: Int32Array;
  readonly #reply: MessagePort;
  readonly #worker: Worker;
  readonly #events: CommitEvents;
  /** Shared with the agent: batches that fit go here, not through postMessage. */
  readonly #mailbox: Uint8Array;
  /** The latest owner grant from the agent, and the direct path opened from it. */
  #grant: OwnerGrant | undefined;
  #direct: OwnerDirectPath | undefined;
  /** The FIFO pair the agent handed us (fifo-agent.ts), if any. */
  #fifo: CallerFifo | undefined;
  /** The last FIFO_LIVE generation we drained our port for. */
  #fifoLooked = 0;
  #nextId = 1;
  #committed = 0;
  /** Errors the agent reported, by batch id (-1: could not open). */
  readonly #errors = new Map<number, Error>();
  /** Events for drainEvents(), in order. */
  #queued: Array<{ kind: 'rotate'; backup: string } | { kind: 'error'; error: Error }> = [];
  #closed = false;

  /** Start the agent and wait until it is the owner or a client. Throws what kept it from either. */
  constructor({ path, settings, events }: CommitPathRequest) {
    this.#path = path;
    this.#settings = settings;
    this.#events = events;
    const ctl = new SharedArrayBuffer(CTL_SLOTS * 4);
    this.#ctl = new Int32Array(ctl);
    // Sized for a whole staging buffer: only a record too large to stage
    // takes the slower postMessage route.
    const staged = isBuffered(settings.durability) ? settings.bufferSize : SYNC_STAGING_BYTES;
    const mailbox = new SharedArrayBuffer(BATCH_HEAD_BYTES + staged);
    this.#mailbox = new Uint8Array(mailbox);
    const { port1, port2 } = new MessageChannel();
    this.#reply = port1;
    const data: AgentData = { path, settings, ctl, mailbox, reply: port2 };
    // trackUnmanagedFds off: the owner's agent opens each client's request
    // FIFO with openSync and hands it to a net.Socket, which closes it
    // itself; a tracking worker would warn when the number comes back.
    this.#worker = new Worker(new URL('./agent.js', import.meta.url), { workerData: data, transferList: [port2], trackUnmanagedFds: false });
    // The agent serves other processes, but never keeps this one alive.
    this.#worker.unref();
    this.#reply.on('message', (m: AgentMessage | OwnerGrant | FifoGrant) => {
      this.#handle(m);
      this.drainEvents();
    });
    this.#reply.unref();
    this.#waitUntil(() => Atomics.load(this.#ctl, ROLE) !== ROLE_STARTING);
    this.#drain();
    if (Atomics.load(this.#ctl, ROLE) === ROLE_FAILED) {
      this.#closed = true;
      void this.#worker.terminate();
      throw this.#errors.get(-1) ?? new Error(`Could not open "${path}"`);
    }
  }

  get committed(): number {
    return this.#committed;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Send `buf[0, end)` (whole framed records) and wait until the owner wrote them. */
  commit(buf: Uint8Array, end: number): void {
    this.#committed = 0;
    if (this.#closed) throw loggerClosed(this.#path);
    if (end > MAX_CLIENT_PAYLOAD_BYTES) {
      throw outOfRange('payload.byteLength', `<= ${MAX_CLIENT_PAYLOAD_BYTES} in a multi-process log`, end);
    }
    const start = Atomics.load(this.#ctl, ROLE) === ROLE_OWNER ? this.#commitDirect(buf, end) : 0;
    if (start < end) {
      const rest = start === 0 ? buf : buf.subarray(start);
      if (!this.#commitThroughFifo(rest, end - start, start)) this.#commitThroughAgent(rest, end - start, start);
    }
    this.#committed = end;
  }

  #takeId(): number {
    const id = this.#nextId;
    this.#nextId = (this.#nextId + 1) | 0 || 1;
    return id;
  }

  /**
   * Send `buf[0, end)` to the owner on our FIFO pair and wait for its
   * answer. False if there is no live pair, the batch is too large for
   * one, or the pair ended before an answer (the owner died or stopped):
   * then the batch goes through the agent, to this owner or the next.
   */
  #commitThroughFifo(buf: Uint8Array, end: number, before: number): boolean {
    if (!CallerFifo.fits(end)) return false;
    const fifo = this.#liveFifo();
    if (fifo === undefined) return false;
    const id = this.#takeId();
    const answer = fifo.roundTrip(this.#ctl, id, buf, end);
    if (answer.kind === 'ack') return true;
    if (answer.kind === 'lost') {
      if (DEBUG) process.stderr.write(`[caller ${process.pid}] fifo off: ${answer.reason}\n`);
      this.#dropFifo();
      return false;
    }
    const err = agentError(answer.message, this.#path);
    this.#committed = before + ((err as { written?: number }).written ?? 0);
    throw err;
  }

  /** The pair the agent keeps live now, taken from the reply port if it just arrived. */
  #liveFifo(): CallerFifo | undefined {
    const live = Atomics.load(this.#ctl, FIFO_LIVE);
    if (this.#fifo !== undefined && this.#fifo.generation !== live) this.#dropFifo();
    if (live === 0) return undefined;
    // The grant is on our port (the agent publishes FIFO_LIVE first); look once per generation.
    if (this.#fifo === undefined && this.#fifoLooked !== live) {
      this.#fifoLooked = live;
      this.#drain();
    }
    return this.#fifo?.generation === live ? this.#fifo : undefined;
  }

  #dropFifo(): void {
    if (DEBUG && this.#fifo) process.stderr.write(`[caller ${process.pid}] fifo closed: ${this.#fifo.acked} batches acknowledged on it\n`);
    this.#fifo?.close();
    this.#fifo = undefined;
  }

  /** Hand `buf[0, end)` to the agent and wait for the owner's acknowledgement; `before` bytes of this commit are in already. */
  #commitThroughAgent(buf: Uint8Array, end: number, before: number): void {
    const id = this.#takeId();
    const mailbox = this.#mailbox;
    if (BATCH_HEAD_BYTES + end <= mailbox.length) {
      // The agent is done with the previous batch (we waited for it): reuse.
      writeBatchHead(mailbox, id, end);
      mailbox.set(buf.subarray(0, end), BATCH_HEAD_BYTES);
      Atomics.store(this.#ctl, SENT_BYTES, end);
      Atomics.store(this.#ctl, SENT, id);
      Atomics.notify(this.#ctl, SENT);
    } else {
      const records = new Uint8Array(end);
      records.set(buf.subarray(0, end));
      this.#worker.postMessage({ type: 'batch', id, records } satisfies ToAgent, [records.buffer]);
    }
    this.#waitUntil(() => ((Atomics.load(this.#ctl, ACKED) - id) | 0) >= 0);
    this.#drain();
    const err = this.#errors.get(id);
    if (err) {
      this.#errors.delete(id);
      this.#committed = before + ((err as { written?: number }).written ?? 0);
      throw err;
    }
  }

  /**
   * Commit as the owner, straight to the files. Returns the bytes written:
   * less than `end` if this process turns out not to be the owner any more
   * (the rest then goes through the agent, which finds out on that batch
   * and hands it to the new owner).
   */
  #commitDirect(buf: Uint8Array, end: number): number {
    const direct = this.#ownerPath();
    if (direct === undefined) return 0;
    let written: number;
    try {
      written = direct.tryCommit(buf, end);
    } catch (err) {
      this.#committed = direct.committed;
      throw err;
    }
    if (written < end) this.#dropDirect();
    return written;
  }

  /** The direct path for the agent's current ownership epoch, opened on first use. */
  #ownerPath(): OwnerDirectPath | undefined {
    const epoch = Atomics.load(this.#ctl, OWNER_EPOCH);
    if (this.#direct?.epoch === epoch) return this.#direct;
    this.#dropDirect();
    // The agent posts the grant before it publishes the epoch and the role.
    this.#drain();
    const grant = this.#grant;
    if (grant?.epoch !== epoch) return undefined;
    const settings = ownerSettings(this.#settings, isFsync(this.#settings.durability));
    this.#direct = new OwnerDirectPath(grant, this.#path, settings, {
      // The agent emits it back to us (with its own, in one stream) and runs the housekeeping.
      rotated: (backup) => this.#worker.postMessage({ type: 'rotated', backup } satisfies ToAgent),
      failed: (error) => this.#queued.push({ kind: 'error', error: error as Error }),
    });
    return this.#direct;
  }

  #dropDirect(): void {
    const direct = this.#direct;
    if (direct === undefined) return;
    this.#direct = undefined;
    direct.drainEvents();
    direct.close();
  }

  drainEvents(): void {
    this.#direct?.drainEvents();
    for (let e = this.#queued.shift(); e !== undefined; e = this.#queued.shift()) {
      if (e.kind === 'rotate') this.#events.rotated(e.backup);
      else this.#events.failed(e.error);
    }
  }

  /** This process leaves: an owner releases the lock, and its clients elect the next one. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#dropDirect();
    this.#worker.postMessage({ type: 'close' } satisfies ToAgent);
    this.#waitUntil(() => Atomics.load(this.#ctl, ROLE) === ROLE_CLOSED);
    this.#drain();
    this.#dropFifo();
  }

  /**
   * A worker thread's logger from this handle is one more process-style
   * client of the owner (its own agent); it shares no state with this one.
   */
  share(): LoggerHandle {
    return { tag: HANDLE_TAG, state: new SharedState().buffer, channel: '', path: this.#path, options: { ...this.#settings } };
  }

  /** Sleep until `ready()`; the agent bumps WAKE (and notifies) after every change it makes. */
  #waitUntil(ready: () => boolean): void {
    for (;;) {
      // Read WAKE before looking: a change after the look bumps it, and the wait returns at once.
      const wake = Atomics.load(this.#ctl, WAKE);
      if (ready()) return;
      Atomics.wait(this.#ctl, WAKE, wake, WAIT_SLICE_MS);
    }
  }

  #drain(): void {
    for (let m = receiveMessageOnPort(this.#reply); m; m = receiveMessageOnPort(this.#reply)) this.#handle(m.message as AgentMessage | OwnerGrant | FifoGrant);
  }

  #handle(m: AgentMessage | OwnerGrant | FifoGrant): void {
    switch (m.type) {
      case 'grant':
        this.#grant = m;
        break;
      case 'fifo':
        this.#dropFifo();
        if (!this.#closed) this.#fifo = CallerFifo.open(this.#ctl, m);
        if (DEBUG) process.stderr.write(`[caller ${process.pid}] fifo ${this.#fifo ? 'on' : 'not opened'}: generation ${m.generation}\n`);
        break;
      case 'error':
        this.#errors.set(m.id ?? -1, agentError(m, this.#path));
        break;
      case 'rotate':
        this.#queued.push({ kind: 'rotate', backup: String(m.value) });
        break;
      case 'failed':
        this.#queued.push({ kind: 'error', error: Object.assign(new Error(m.message), { code: m.code }) });
        break;
      case 'warning':
        // Warnings of the agent (a torn tail cut at takeover, ...) are this
        // process's: emitted here, where the application listens.
        process.emitWarning(m.message ?? '', { code: m.code, detail: m.detail });
        break;
    }
  }
}

/** The Error for an ERROR the owner (or the agent) reported: the OS error's code, syscall, path and the bytes written. */
function agentError(m: { message?: unknown; code?: unknown; syscall?: unknown; path?: unknown; written?: unknown }, path: string): Error {
  const err = Object.assign(new Error(typeof m.message === 'string' ? m.message : 'unknown error'), { code: m.code, syscall: m.syscall, path: m.path ?? path });
  if (m.written !== undefined) Object.assign(err, { written: m.written });
  if (m.code === undefined) delete (err as { code?: unknown }).code;
  if (m.syscall === undefined) delete (err as { syscall?: unknown }).syscall;
  return err;
}
