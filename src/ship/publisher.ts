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
}

export class Publisher {
  #nats: NatsModule;
  #js: JetStreamClient;
  #s: PublisherSettings;
  #inFlight: InFlight[] = [];
  #inFlightBytes = 0;
  #payloads: Buffer[] = [];
  #bodyBytes = 0;
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
    if (this.#bodyBytes + size > this.#s.maxBodyBytes && this.#payloads.length > 0) await this.flush();
    this.#first ??= position;
    this.#next = next;
    this.#payloads.push(payload);
    this.#bodyBytes += size;
    if (this.#s.onePerMessage) await this.flush();
  }

  /** Publish the batch gathered so far, if any, then wait until in-flight limits hold. */
  async flush(): Promise<void> {
    if (this.#payloads.length > 0) this.#publish();
    while (this.#inFlight.length > this.#s.maxInFlight || (this.#inFlightBytes > this.#s.maxInFlightBytes && this.#inFlight.length > 0)) {
      await this.#settleOne();
    }
  }

  /** Publish what is gathered and wait for every ack. */
  async drain(): Promise<void> {
    if (this.#payloads.length > 0) this.#publish();
    while (this.#inFlight.length > 0) await this.#settleOne();
  }

  /** Wait for every message in flight to settle, ignoring failures (before a resync). */
  async abandon(): Promise<void> {
    this.#payloads = [];
    this.#bodyBytes = 0;
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
    const count = this.#payloads.length;
    let body: Buffer;
    if (this.#s.onePerMessage) {
      body = this.#payloads[0]!;
    } else {
      body = Buffer.allocUnsafe(this.#bodyBytes);
      let at = 0;
      for (const p of this.#payloads) {
        body.writeUInt32BE(p.length, at);
        p.copy(body, at + HEADER_BYTES);
        at += HEADER_BYTES + p.length;
      }
    }
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
    this.#inFlight.push({ result, next, records: count, bytes: body.length });
    this.#inFlightBytes += body.length;
    this.#payloads = [];
    this.#bodyBytes = 0;
    this.#first = this.#next = undefined;
  }

  async #settleOne(): Promise<void> {
    const head = this.#inFlight[0]!;
    const r = await head.result;
    if ('error' in r) throw r.error;
    this.#inFlight.shift();
    this.#inFlightBytes -= head.bytes;
    this.#s.onAck(head.next, r.seq, head.records);
  }
}
