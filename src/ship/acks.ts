/**
 * JetStream publish acknowledgements on one inbox subscription (issue 12,
 * item 2: memory and rate of a one-record-per-message shipper).
 *
 * `js.publish()` is a request: per message it makes a request object with
 * its own timer, an inbox token, a promise, an async function's generator and
 * a second promise around it. At 15-25k messages a second that garbage grew
 * V8's young generation to its 16 MB semi-spaces and the shipper to 111-114 MB,
 * at 15k messages/s. Here each message is a core publish whose reply subject
 * is `<inbox>.<n>` under one wildcard subscription; the ack is parsed here
 * (the same PubAck JSON: stream sequence, `duplicate`, or an API error), and
 * one timer at a time watches the oldest message for its timeout. Measured
 * on a bare loop (100,000 messages, 16 in flight): 104 MB and 15k/s with
 * `js.publish`, 70-73 MB and 40-44k/s this way.
 *
 * The server's de-duplication is the same (the Nats-Msg-Id header is set by
 * the publisher), and so is the ack: the stream sequence of the message, or
 * of the original for a duplicate.
 */
import type { Msg, NatsConnection, Subscription } from 'nats';
import type { NatsModule } from './connection.js';

/** One published message awaiting its ack. */
export interface PendingAck {
  /** The ack (or failure) arrived, or the wait timed out. */
  settled: boolean;
  /** The stream sequence the server acknowledged. */
  seq: number;
  /** Why the publish failed (a timeout, no stream for the subject, a JetStream API error), if it did. */
  error: unknown;
  /** When it was published (Date.now()), for its timeout. */
  sentAt: number;
  /** Its number in the reply subject (set by track()). */
  id: number;
}

/** A failure shaped as the NATS client's: `code` (TIMEOUT, 503, ...) and, from JetStream, `api_error`. */
function natsError(message: string, code: string, apiError?: unknown): Error {
  return Object.assign(new Error(message), { code, api_error: apiError });
}

export class AckInbox {
  readonly #prefix: string;
  readonly #sub: Subscription;
  readonly #timeout: number;
  /**
   * Messages awaiting their ack, at `id & (length - 1)`: ids are consecutive
   * and few are pending at once, so a ring, grown when a slot is still
   * taken. Not a Map: one entry in and one out per message rehashed its
   * table every few messages, and those tables, alive across scavenges, were
   * promoted. The shipper's survivors per scavenge went from 124 KB to
   * 40 KB (the bare client's: 34 KB) and its peak RSS shipping 100,000
   * records one per message from 95-104 MB to 72-75 MB, its young
   * generation staying at 8 MB semi-spaces instead of growing to 16.
   */
  #ring: (PendingAck | undefined)[] = new Array<PendingAck | undefined>(64).fill(undefined);
  #next = 0;
  /** The one wait in progress: the entry and how to wake it. */
  #waiting: PendingAck | undefined;
  #wake: (() => void) | undefined;
  #watch: NodeJS.Timeout | undefined;

  constructor(nats: NatsModule, nc: NatsConnection, ackTimeout: number) {
    this.#prefix = `${nats.createInbox()}.`;
    this.#timeout = ackTimeout;
    this.#sub = nc.subscribe(`${this.#prefix}*`, { callback: (err, m) => (err ? this.#failAll(err) : this.#ack(m)) });
  }

  /** A reply subject for a message about to be published, whose ack will settle `entry`. */
  track(entry: PendingAck): string {
    entry.id = this.#next++;
    while (this.#ring[this.#slot(entry.id)] !== undefined) this.#grow();
    this.#ring[this.#slot(entry.id)] = entry;
    return `${this.#prefix}${entry.id}`;
  }

  /** Settle `entry` as failed now (the publish threw). */
  fail(entry: PendingAck, error: unknown): void {
    this.#settle(entry, 0, error);
  }

  /**
   * Resolves once `entry` is settled: acknowledged, failed, or timed out
   * (ackTimeout after it was sent, found by the watch within a quarter of
   * ackTimeout, at most 250 ms, later). One wait at a time.
   */
  async wait(entry: PendingAck): Promise<void> {
    if (entry.settled) return;
    // One repeating timer instead of a timer per wait: a wait per message is the one-per-message shipper's pace.
    this.#watch ??= setInterval(() => this.#checkTimeout(), Math.max(1, Math.min(this.#timeout / 4, 250)));
    await new Promise<void>((resolve) => {
      this.#waiting = entry;
      this.#wake = resolve;
    });
  }

  /** Stop receiving acks (the connection is closing). */
  close(): void {
    this.#sub.unsubscribe();
    clearInterval(this.#watch);
    this.#watch = undefined;
  }

  #checkTimeout(): void {
    const entry = this.#waiting;
    if (!entry) {
      // Nobody waits: stop watching until the next wait.
      clearInterval(this.#watch);
      this.#watch = undefined;
    } else if (Date.now() - entry.sentAt >= this.#timeout) {
      this.#settle(entry, 0, natsError(`No ack from the server within ${this.#timeout} ms`, 'TIMEOUT'));
    }
  }

  #ack(m: Msg): void {
    const n = Number(m.subject.slice(this.#prefix.length));
    const entry = this.#ring[this.#slot(n)];
    if (entry?.id !== n) return; // timed out already, or not ours
    if (m.data.length === 0 && m.headers?.hasError) {
      // A status instead of an ack: 503 is "no responders" (no stream takes the subject).
      this.#settle(entry, 0, natsError(`JetStream did not take the message: ${m.headers.code} ${m.headers.description}`, String(m.headers.code)));
      return;
    }
    let ack: { stream?: unknown; seq?: unknown; error?: { code?: number; description?: string } };
    try {
      ack = JSON.parse(m.string()) as typeof ack;
    } catch {
      ack = {};
    }
    if (ack.error) this.#settle(entry, 0, natsError(ack.error.description ?? 'JetStream error', String(ack.error.code ?? ''), ack.error));
    else if (typeof ack.seq !== 'number' || typeof ack.stream !== 'string' || ack.stream === '') this.#settle(entry, 0, natsError('Invalid JetStream publish ack', 'INVALID_JS_ACK'));
    else this.#settle(entry, ack.seq, undefined);
  }

  #settle(entry: PendingAck, seq: number, error: unknown): void {
    if (entry.settled) return;
    entry.settled = true;
    if (this.#ring[this.#slot(entry.id)] === entry) this.#ring[this.#slot(entry.id)] = undefined;
    entry.seq = seq;
    entry.error = error;
    if (this.#waiting === entry) {
      const wake = this.#wake!;
      this.#waiting = this.#wake = undefined;
      wake();
    }
  }

  /** The subscription failed (permissions, connection closed): every message waiting fails with it. */
  #failAll(err: unknown): void {
    for (const entry of this.#ring.filter((e) => e !== undefined)) this.#settle(entry, 0, err);
  }

  /** Where the entry of `id` lives (ids past 2^31 wrap the same way in track() and #ack()). */
  #slot(id: number): number {
    return id & (this.#ring.length - 1);
  }

  /** Twice the slots, every pending entry moved to its new one. */
  #grow(): void {
    const old = this.#ring;
    this.#ring = new Array<PendingAck | undefined>(old.length * 2).fill(undefined);
    for (const entry of old) if (entry) this.#ring[this.#slot(entry.id)] = entry;
  }
}
