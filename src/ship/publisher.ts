/**
 * The publishing pipeline of a shipper (issue 12, item 2): records gathered
 * into messages, many messages in flight (bounded in count and bytes), acks
 * taken in order, and the checkpoint advanced only over a contiguous run of
 * acknowledged messages.
 */
import type { JetStreamClient } from './types.js';
import type { Position } from '../index.js';
import { HEADER_BYTES } from '../index.js';
import { HDR_BODY, HDR_COUNT, HDR_FIRST, HDR_LOG, HDR_NEXT, formatPosition, messageId } from './framing.js';
import type { NatsModule } from './connection.js';

export interface PublisherSettings {
  subject: string;
  log: string;
  /** One record per message (bare payload) instead of batches of framed records. */
  onePerMessage: boolean;
  /** Largest message body in bytes. */
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

interface InFlight {
  result: Promise<{ seq: number } | { error: unknown }>;
  next: Position;
  records: number;
  bytes: number;
  /** The batch buffer the body is a view of, reused once the message is acknowledged. */
  buffer: Buffer | undefined;
}

export class Publisher {
  #nats: NatsModule;
  #js: JetStreamClient;
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
  #next: Position | undefined;

  constructor(nats: NatsModule, js: JetStreamClient, settings: PublisherSettings) {
    this.#nats = nats;
    this.#js = js;
    this.#s = settings;
  }

  /** Bytes a record takes in a message body. */
  recordBytes(payload: Buffer): number {
    return this.#s.onePerMessage ? payload.length : HEADER_BYTES + payload.length;
  }

  /**
   * Add one record; publishes a message when the batch is full. Resolves
   * once there is room in flight again. Rejects with the first failed
   * publish (the caller resyncs with the stream).
   */
  async add(payload: Buffer, position: Position, next: Position): Promise<void> {
    const size = this.recordBytes(payload);
    if (this.#bodyBytes + size > this.#s.maxBodyBytes && this.#count > 0) await this.flush();
    // Copied now: `payload` may be a view the reader reuses at its next step.
    if (this.#s.onePerMessage) this.#body = Buffer.from(payload);
    else {
      this.#body ??= this.#spare.pop() ?? Buffer.allocUnsafe(this.#s.maxBodyBytes);
      this.#body.writeUInt32BE(payload.length, this.#bodyBytes);
      payload.copy(this.#body, this.#bodyBytes + HEADER_BYTES);
    }
    this.#first ??= position;
    this.#next = next;
    this.#count++;
    this.#bodyBytes += size;
    if (this.#s.onePerMessage) await this.flush();
  }

  /** Publish the batch gathered so far, if any, then wait until in-flight limits hold. */
  async flush(): Promise<void> {
    if (this.#count > 0) this.#publish();
    while (this.#inFlight.length > this.#s.maxInFlight || (this.#inFlightBytes > this.#s.maxInFlightBytes && this.#inFlight.length > 0)) {
      await this.#settleOne();
    }
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
    this.#first = this.#next = undefined;
    await Promise.all(this.#inFlight.map((f) => f.result));
    this.#inFlight = [];
    this.#inFlightBytes = 0;
  }

  get inFlight(): number {
    return this.#inFlight.length;
  }

  #publish(): void {
    const first = this.#first!;
    const next = this.#next!;
    const count = this.#count;
    // Each message has a body of its own: the client may still hold it while it is in flight.
    const body = this.#body!.subarray(0, this.#bodyBytes);
    const h = this.#nats.headers();
    h.set(HDR_LOG, this.#s.log);
    h.set(HDR_FIRST, formatPosition(first));
    h.set(HDR_NEXT, formatPosition(next));
    h.set(HDR_COUNT, String(count));
    h.set(HDR_BODY, this.#s.onePerMessage ? 'payload' : 'records');
    const result = this.#js
      .publish(this.#s.subject, body, { msgID: messageId(this.#s.log, first), headers: h, timeout: this.#s.ackTimeout })
      .then(
        (ack) => ({ seq: ack.seq }),
        (error: unknown) => ({ error }),
      );
    this.#inFlight.push({ result, next, records: count, bytes: body.length, buffer: this.#s.onePerMessage ? undefined : this.#body });
    this.#inFlightBytes += body.length;
    this.#body = undefined;
    this.#bodyBytes = 0;
    this.#count = 0;
    this.#first = this.#next = undefined;
  }

  async #settleOne(): Promise<void> {
    const head = this.#inFlight[0]!;
    const r = await head.result;
    if ('error' in r) throw r.error;
    this.#inFlight.shift();
    this.#inFlightBytes -= head.bytes;
    if (head.buffer) this.#spare.push(head.buffer);
    this.#s.onAck(head.next, r.seq, head.records);
  }
}
