/**
 * The caller's side of its FIFO pair: a client's 'sync' or 'fsync'
 * write() sends its BATCH frame with one blocking write(2) into the request
 * FIFO and sleeps in a blocking read(2) on the reply FIFO until the owner's
 * ACK or ERROR, both from the caller's own thread. The kernel wakes the
 * owner's agent on the write and the caller on the owner's answer: two
 * thread wake-ups per batch, where the mailbox path (process-path.ts) pays
 * four (caller -> its agent -> owner's agent -> its agent -> caller), each
 * a context switch of about 70 us on a busy 2-core VM
 * (bench/handoff-cost.js). Node has no blocking socket, but a FIFO opened
 * with fs.openSync without O_NONBLOCK is one: readSync and writeSync block
 * in the kernel without an event loop.
 *
 * The caller opens both FIFOs itself, in blocking mode, from its agent's
 * descriptors (fifo-agent.ts; read and write, so that the open never
 * waits), and only this thread uses and closes them. A
 * frame goes only into an empty request pipe (one batch in flight) and is
 * at most FIFO_FRAME_BYTES, so the write never blocks, also when the owner
 * is stopped. While the caller waits it publishes when it started in the
 * FIFO_SINCE slot: its agent's stall check reads it, and when the owner
 * dies or stops the agent writes a WAKE frame into the reply FIFO. Then
 * the batch goes through the agent, to the next owner (at-least-once, as
 * on the mailbox path).
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { HEADER_BYTES, readHeader } from '../format.js';
import { BATCH_HEAD_BYTES, FIFO_FRAME_BYTES, FrameType, parseAck, parseJson, writeBatchHead } from './protocol.js';
import { FIFO_LIVE, FIFO_SINCE, fifoStamp, type FifoGrant } from './slots.js';

/** What came back for a batch. */
export type FifoAnswer =
  | { kind: 'ack' }
  | { kind: 'error'; message: Record<string, unknown> }
  /** The pair is over (WAKE, EOF, a broken pipe, a frame we did not expect): nothing is known of the batch. */
  | { kind: 'lost'; reason: string };

/** An answer larger than this (an ERROR frame is JSON of a few hundred bytes) ends the pair. */
const MAX_ANSWER_BYTES = 1024 * 1024;

export class CallerFifo {
  readonly generation: number;
  readonly #request: number;
  readonly #reply: number;
  readonly #out = Buffer.allocUnsafe(FIFO_FRAME_BYTES);
  #in = Buffer.allocUnsafe(FIFO_FRAME_BYTES);
  /** Bytes read from the reply FIFO and not yet taken as a frame. */
  #filled = 0;
  #closed = false;
  /** Batches acknowledged on this pair (BINLOG_DEBUG_AGENT reports it). */
  acked = 0;

  constructor(generation: number, request: number, reply: number) {
    this.generation = generation;
    this.#request = request;
    this.#reply = reply;
  }

  /**
   * Open our ends of the pair the agent granted, or undefined if it is not
   * live any more (or /proc fails us). The agent clears FIFO_LIVE before it
   * closes its descriptors: live after our opens means we opened its FIFOs,
   * not numbers since reused.
   */
  static open(ctl: Int32Array, grant: FifoGrant): CallerFifo | undefined {
    if (Atomics.load(ctl, FIFO_LIVE) !== grant.generation) return undefined;
    const fds: number[] = [];
    try {
      for (const fd of [grant.request, grant.reply]) fds.push(openSync(`/proc/self/fd/${fd}`, 'r+'));
    } catch {
      for (const fd of fds) closeSync(fd);
      return undefined;
    }
    const fifo = new CallerFifo(grant.generation, fds[0]!, fds[1]!);
    if (Atomics.load(ctl, FIFO_LIVE) === grant.generation) return fifo;
    fifo.close();
    return undefined;
  }

  /** True if framed records of `bytes` bytes fit one FIFO frame. */
  static fits(bytes: number): boolean {
    return BATCH_HEAD_BYTES + bytes <= FIFO_FRAME_BYTES;
  }

  /** Send batch `id` (`records[0, end)`, whole framed records, fits()) and wait for its answer. */
  roundTrip(ctl: Int32Array, id: number, records: Uint8Array, end: number): FifoAnswer {
    // Anything read before we sent is a WAKE (or worse): the pair is over.
    if (this.#filled > 0) return { kind: 'lost', reason: 'a frame before the batch' };
    const out = this.#out;
    writeBatchHead(out, id, end);
    out.set(records.subarray(0, end), BATCH_HEAD_BYTES);
    Atomics.store(ctl, FIFO_SINCE, fifoStamp());
    try {
      try {
        // At most PIPE_BUF into an empty pipe: whole, at once (see the module comment).
        if (writeSync(this.#request, out, 0, BATCH_HEAD_BYTES + end) !== BATCH_HEAD_BYTES + end) return { kind: 'lost', reason: 'short write' };
      } catch (err) {
        // Should not happen (we hold a read end ourselves); whatever it is, the pair is over.
        return { kind: 'lost', reason: (err as NodeJS.ErrnoException).code ?? String(err) };
      }
      return this.#answer(id);
    } finally {
      Atomics.store(ctl, FIFO_SINCE, 0);
    }
  }

  #answer(id: number): FifoAnswer {
    const whole = this.#readFrame();
    if (typeof whole === 'string') return { kind: 'lost', reason: whole };
    try {
      return this.#parse(id, this.#in.subarray(0, whole));
    } finally {
      // Parsed into values: the bytes are done with (no copy per answer).
      this.#in.copyWithin(0, whole, this.#filled);
      this.#filled -= whole;
    }
  }

  #parse(id: number, frame: Buffer): FifoAnswer {
    const body = frame.subarray(HEADER_BYTES + 1);
    switch (frame[HEADER_BYTES]) {
      case FrameType.ACK:
        if (parseAck(body)?.id === id >>> 0) {
          this.acked++;
          return { kind: 'ack' };
        }
        return { kind: 'lost', reason: 'an ACK for another batch' };
      case FrameType.ERROR: {
        const message = parseJson({ type: FrameType.ERROR, body });
        // Ids travel as uint32 (writeBatchHead); ours wraps through negatives.
        if (message && Number(message.id) === id >>> 0) return { kind: 'error', message };
        return { kind: 'lost', reason: 'an ERROR for another batch' };
      }
      case FrameType.WAKE:
        return { kind: 'lost', reason: 'woken by the agent' };
      default:
        return { kind: 'lost', reason: `frame type ${frame[HEADER_BYTES]}` };
    }
  }

  /** Length of the next whole frame, read to the start of #in; or why there is none. */
  #readFrame(): number | string {
    for (;;) {
      if (this.#filled >= HEADER_BYTES) {
        const length = readHeader(this.#in, 0);
        if (length === 0 || HEADER_BYTES + length > MAX_ANSWER_BYTES) return `a reply frame of ${length} bytes`;
        const whole = HEADER_BYTES + length;
        if (whole > this.#in.length) {
          const bigger = Buffer.allocUnsafe(whole);
          this.#in.copy(bigger, 0, 0, this.#filled);
          this.#in = bigger;
        }
        if (this.#filled >= whole) return whole;
      }
      let n: number;
      try {
        n = readSync(this.#reply, this.#in, this.#filled, this.#in.length - this.#filled, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EINTR') continue;
        return code ?? String(err);
      }
      // We hold a write end ourselves, so no EOF: the agent's WAKE tells us instead.
      if (n === 0) return 'end of the reply FIFO';
      this.#filled += n;
    }
  }

  /** Close both descriptors (this thread's own). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#request);
    closeSync(this.#reply);
  }
}
