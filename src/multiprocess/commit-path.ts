/**
 * The caller's side of a multi-process log: hands framed records to the
 * agent thread (agent.ts) and, where the durability promises it, waits on
 * Atomics.wait until the owner has them in the file. The agent does the
 * socket I/O in its own event loop, so this thread's write() stays
 * synchronous without any busy loop.
 *
 * Delivery: a batch the owner acknowledged is in the file. A batch in
 * flight when the owner died is sent again to the next owner, so it may be
 * in the file twice (at-least-once), never lost silently; a batch the owner
 * refused (ENOSPC, ...) comes back as that error, thrown by the write() or
 * flush() that waits for it (buffered modes: by the next write() or flush()).
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { MAX_CLIENT_PAYLOAD_BYTES } from './protocol.js';
import { ACKED, CTL_SLOTS, ROLE, ROLE_CLOSED, ROLE_FAILED, ROLE_STARTING, WAKE, type AgentData, type ToAgent } from './slots.js';

export { MAX_CLIENT_PAYLOAD_BYTES };

/** A buffered caller waits for acknowledgements once this many bytes are in flight. */
const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;
/** Re-check the agent this often while waiting (it cannot die alone, but a hang must show). */
const WAIT_SLICE_MS = 1000;

interface AgentMessage {
  type: string;
  id?: number;
  code?: string;
  message?: string;
  syscall?: string;
  path?: string;
  written?: number;
  event?: string;
  value?: unknown;
  reason?: string;
  pid?: number;
  clients?: number;
  role?: string;
}

/** What the caller's logger hears from its agent outside a wait. */
export interface ProcessPathEvents {
  event(name: string, value: unknown): void;
}

export class ProcessCommitPath {
  readonly #ctl: Int32Array;
  readonly #reply: MessagePort;
  readonly #worker: Worker;
  readonly #events: ProcessPathEvents;
  #nextId = 1;
  /** Batches sent and not yet done: id and bytes, oldest first. */
  #inFlight: Array<{ id: number; bytes: number }> = [];
  #inFlightBytes = 0;
  /** Errors for batches nobody waited for yet (buffered modes). */
  #failures: Error[] = [];
  #waitedErrors = new Map<number, Error>();
  #closed = false;
  readonly path: string;

  /** Start the agent and wait until it is the owner or a client. Throws what kept it from either. */
  constructor(path: string, settings: AgentData['settings'], events: ProcessPathEvents) {
    this.path = path;
    this.#events = events;
    const ctl = new SharedArrayBuffer(CTL_SLOTS * 4);
    this.#ctl = new Int32Array(ctl);
    const { port1, port2 } = new MessageChannel();
    this.#reply = port1;
    const data: AgentData = { path, settings, ctl, reply: port2 };
    this.#worker = new Worker(new URL('./agent.js', import.meta.url), { workerData: data, transferList: [port2] });
    this.#worker.unref();
    this.#reply.on('message', (m: AgentMessage) => this.#handle(m));
    this.#reply.unref();
    this.#waitUntil(() => Atomics.load(this.#ctl, ROLE) !== ROLE_STARTING);
    if (Atomics.load(this.#ctl, ROLE) === ROLE_FAILED) {
      this.#drain();
      this.#closed = true;
      void this.#worker.terminate();
      throw this.#waitedErrors.get(-1) ?? this.#failures.shift() ?? new Error(`Could not open "${path}"`);
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Send `buf[0, end)` (whole framed records). With `wait`, return once the
   * owner wrote them, throwing its error if it could not; without, return at
   * once (an error comes back later, see throwFailure()).
   */
  commit(buf: Uint8Array, end: number, wait: boolean): void {
    this.throwFailure();
    const id = this.#nextId;
    this.#nextId = (this.#nextId + 1) | 0 || 1;
    const records = new Uint8Array(end);
    records.set(buf.subarray(0, end));
    this.#worker.postMessage({ type: 'batch', id, records } satisfies ToAgent);
    this.#inFlight.push({ id, bytes: end });
    this.#inFlightBytes += end;
    if (wait) this.#waitFor(id);
    else if (this.#inFlightBytes > MAX_IN_FLIGHT_BYTES) this.#waitFor(this.#inFlight[0]!.id);
  }

  /** Wait until every batch sent is done; throw the first error among them. */
  flush(): void {
    const last = this.#inFlight[this.#inFlight.length - 1];
    if (last) this.#waitFor(last.id);
    this.throwFailure();
  }

  /** Throw (once) an error the owner reported for a batch nobody waited for. */
  throwFailure(): void {
    this.#drain();
    const err = this.#failures.shift();
    if (err) throw err;
  }

  /** Ask the agent who owns the log and how many clients it serves. */
  status(): { role: string; pid: number; clients?: number } {
    let answer: AgentMessage | undefined;
    const before = Atomics.load(this.#ctl, WAKE);
    this.#worker.postMessage({ type: 'status' } satisfies ToAgent);
    this.#waitUntil(() => {
      for (let m = receiveMessageOnPort(this.#reply); m; m = receiveMessageOnPort(this.#reply)) {
        const msg = m.message as AgentMessage;
        if (msg.type === 'status') answer = msg;
        else this.#handle(msg);
      }
      return answer !== undefined;
    }, before);
    return { role: answer!.role ?? '', pid: answer!.pid ?? 0, clients: answer!.clients };
  }

  /** Stop the agent: an owner releases the lock, and its clients elect the next one. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.postMessage({ type: 'close' } satisfies ToAgent);
    this.#waitUntil(() => Atomics.load(this.#ctl, ROLE) === ROLE_CLOSED);
    this.#drain();
  }

  #waitFor(id: number): void {
    this.#waitUntil(() => ((Atomics.load(this.#ctl, ACKED) - id) | 0) >= 0);
    this.#drain();
    while (this.#inFlight.length > 0 && ((this.#inFlight[0]!.id - id) | 0) <= 0) {
      this.#inFlightBytes -= this.#inFlight.shift()!.bytes;
    }
    const err = this.#waitedErrors.get(id);
    if (err) {
      this.#waitedErrors.delete(id);
      this.#failures = this.#failures.filter((e) => e !== err);
      throw err;
    }
  }

  #waitUntil(ready: () => boolean, seen?: number): void {
    for (;;) {
      const wake = seen ?? Atomics.load(this.#ctl, WAKE);
      seen = undefined;
      if (ready()) return;
      Atomics.wait(this.#ctl, WAKE, wake, WAIT_SLICE_MS);
    }
  }

  #drain(): void {
    for (let m = receiveMessageOnPort(this.#reply); m; m = receiveMessageOnPort(this.#reply)) this.#handle(m.message as AgentMessage);
  }

  #handle(m: AgentMessage): void {
    if (m.type === 'error') {
      const err = Object.assign(new Error(m.message ?? 'unknown error'), { code: m.code, syscall: m.syscall, path: m.path ?? this.path });
      if (m.written) Object.assign(err, { written: m.written });
      this.#waitedErrors.set(m.id ?? -1, err);
      if (m.id !== -1) this.#failures.push(err);
    } else if (m.type === 'event') {
      if (m.event === 'error') this.#events.event('error', Object.assign(new Error(m.message), { code: m.code }));
      else this.#events.event(m.event ?? '', m.value);
    } else if (m.type === 'refused') this.#events.event('refused', m.reason);
  }
}
