/**
 * The publishing pipeline of a shipper (issue 12, item 2): records gathered
 * into messages, many messages in flight (bounded in count and bytes), acks
 * taken in order, and the checkpoint advanced only over a contiguous run of
 * acknowledged messages.
 */
import type { NatsConnection } from './types.js';
import { AckInbox, type PendingAck } from './acks.js';
import type { LogCursor, Position } from '../index.js';
import { HEADER_BYTES } from '../index.js';
import { HDR_BODY, HDR_COUNT, HDR_FIRST, HDR_LOG, HDR_MSG_ID, HDR_NEXT, formatPosition, messageId } from './framing.js';
import type { NatsModule } from './connection.js';

export interface PublisherSettings {
  subject: string;
  log: string;
  /** One record per message (bare payload) instead of batches of framed records. */
  onePerMessage: boolean;
  /**
   * A batch closes before a record would take it over this many body bytes.
   * A record larger than that on its own travels alone, in a message its size.
   */
  maxBodyBytes: number;
  /** Most messages awaiting their ack. */
  maxInFlight: number;
  /** Most body bytes awaiting their ack. */
  maxInFlightBytes: number;
  /** How long to wait for one ack, in ms. */
  ackTimeout: number;
  /** Called in order with each acknowledged message's end position and stream sequence. */
  onAck(next: Position, streamSeq: number, records: number): void;
}

interface InFlight extends PendingAck {
  next: Position;
  records: number;
  bytes: number;
  /** The batch buffer the body is a view of, reused once the message is acknowledged. */
  buffer: Buffer | undefined;
}

export class Publisher {
  #nats: NatsModule;
  #nc: NatsConnection;
  #acks: AckInbox;
  #s: PublisherSettings;
  #inFlight: InFlight[] = [];
  #inFlightBytes = 0;
  /** The message being gathered: records framed as in the log, copied in as they are added. */
  #body: Buffer | undefined;
  #bodyBytes = 0;
  #count = 0;
  /**
   * Batch buffers whose messages were acknowledged, for the next batches:
   * a fresh 1 MiB buffer per message would be freed only when V8 next
   * collects, and memory would grow with the backlog meanwhile.
   */
  #spare: Buffer[] = [];
  #first: Position | undefined;
  /** Where the message being gathered ends (the last record's next position). */
  #nextSeq = 0;
  #nextOffset = 0;

  constructor(nats: NatsModule, nc: NatsConnection, settings: PublisherSettings) {
    this.#nats = nats;
    this.#nc = nc;
    this.#s = settings;
    this.#acks = new AckInbox(nats, nc, settings.ackTimeout);
  }

  /** Stop taking acks (before the connection closes). */
  close(): void {
    this.#acks.close();
  }

  /** Bytes a record of `length` payload bytes takes in a message body. */
  recordBytes(length: number): number {
    return this.#s.onePerMessage ? length : HEADER_BYTES + length;
  }

  /**
   * Add the cursor's current record (it must fit in a message body: the
   * caller checks recordBytes() first). Returns undefined when the caller
   * may go on at once, else a promise that resolves once there is room in
   * flight again (and rejects with the first failed publish: the caller
   * resyncs with the stream).
   *
   * Memory: nothing is allocated per record on the way (no promise, no
   * position object) but the payload view. A batched shipper adds a million
   * records a second; a few hundred bytes of garbage each make V8 scavenge
   * so often that the client's message copies, still in the socket's write
   * queue, survive two scavenges and are promoted; old, they are freed only
   * by a full collection, which V8 starts after 64 MB of external memory.
   */
  add(cursor: LogCursor): Promise<void> | undefined {
    const length = cursor.length;
    const size = this.recordBytes(length);
    if (this.#count > 0 && this.#bodyBytes + size > this.#s.maxBodyBytes) {
      this.#publish();
      return this.#room(cursor);
    }
    this.#append(cursor, length, size);
    return this.#s.onePerMessage ? this.#publishAndWait() : undefined;
  }

  async #room(cursor: LogCursor): Promise<void> {
    await this.#settle();
    this.#append(cursor, cursor.length, this.recordBytes(cursor.length));
    if (this.#s.onePerMessage) await this.#publishAndWait();
  }

  #publishAndWait(): Promise<void> | undefined {
    this.#publish();
    return this.#full() ? this.#settle() : undefined;
  }

  #append(cursor: LogCursor, length: number, size: number): void {
    if (this.#count === 0) this.#first = cursor.position;
    // Copied now: the payload is a view the cursor reuses at its next step.
    const payload = cursor.payload();
    if (this.#s.onePerMessage) this.#body = Buffer.from(payload);
    else {
      // A record over the batch size (the caller checked it fits max_payload) gets a buffer of its own, never reused.
      this.#body ??= size > this.#s.maxBodyBytes ? Buffer.allocUnsafe(size) : (this.#spare.pop() ?? Buffer.allocUnsafe(this.#s.maxBodyBytes));
      this.#body.writeUInt32BE(length, this.#bodyBytes);
      payload.copy(this.#body, this.#bodyBytes + HEADER_BYTES);
    }
    // Kept as numbers: a position object per record would be garbage for all but the last.
    const next = cursor.nextPosition;
    this.#nextSeq = next.seq;
    this.#nextOffset = next.offset;
    this.#count++;
    this.#bodyBytes += size;
  }

  /** Publish the batch gathered so far, if any, then wait until in-flight limits hold. */
  async flush(): Promise<void> {
    if (this.#count > 0) this.#publish();
    await this.#settle();
  }

  /** True while more is in flight than the limits allow. */
  #full(): boolean {
    return this.#inFlight.length > this.#s.maxInFlight || (this.#inFlightBytes > this.#s.maxInFlightBytes && this.#inFlight.length > 0);
  }

  /** Wait for acks until the in-flight limits hold. */
  async #settle(): Promise<void> {
    while (this.#full()) await this.#settleOne();
  }

  /** Publish what is gathered and wait for every ack. */
  async drain(): Promise<void> {
    if (this.#count > 0) this.#publish();
    while (this.#inFlight.length > 0) await this.#settleOne();
  }

  /** Wait for every message in flight to settle, ignoring failures (before a resync). */
  async abandon(): Promise<void> {
    this.#body = undefined;
    this.#bodyBytes = 0;
    this.#count = 0;
    this.#first = undefined;
    for (const f of this.#inFlight) await this.#acks.wait(f);
    this.#inFlight = [];
    this.#inFlightBytes = 0;
  }

  get inFlight(): number {
    return this.#inFlight.length;
  }

  #publish(): void {
    const first = this.#first!;
    const next: Position = { seq: this.#nextSeq, offset: this.#nextOffset };
    const count = this.#count;
    // Each message has a body of its own: the client may still hold it while it is in flight.
    const body = this.#body!.subarray(0, this.#bodyBytes);
    const h = this.#nats.headers();
    // What js.publish sets for `msgID`: the server drops a second message with this id.
    h.set(HDR_MSG_ID, messageId(this.#s.log, first));
    h.set(HDR_LOG, this.#s.log);
    h.set(HDR_FIRST, formatPosition(first));
    h.set(HDR_NEXT, formatPosition(next));
    h.set(HDR_COUNT, String(count));
    h.set(HDR_BODY, this.#s.onePerMessage ? 'payload' : 'records');
    // A core publish with a reply subject, its ack taken by one subscription (acks.ts says why).
    const entry: InFlight = { settled: false, seq: 0, error: undefined, sentAt: Date.now(), id: 0, next, records: count, bytes: body.length, buffer: this.#s.onePerMessage ? undefined : this.#body };
    const reply = this.#acks.track(entry);
    try {
      this.#nc.publish(this.#s.subject, body, { reply, headers: h });
    } catch (err) {
      this.#acks.fail(entry, err);
    }
    this.#inFlight.push(entry);
    this.#inFlightBytes += body.length;
    this.#body = undefined;
    this.#bodyBytes = 0;
    this.#count = 0;
    this.#first = undefined;
  }

  async #settleOne(): Promise<void> {
    const head = this.#inFlight[0]!;
    await this.#acks.wait(head);
    if (head.error !== undefined) throw head.error;
    this.#inFlight.shift();
    this.#inFlightBytes -= head.bytes;
    if (head.buffer?.length === this.#s.maxBodyBytes) this.#spare.push(head.buffer);
    this.#s.onAck(head.next, head.seq, head.records);
  }
}
