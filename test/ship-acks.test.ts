/**
 * Issue 12, item 2: the shipper's acks on one inbox subscription (acks.ts),
 * fed the replies a JetStream server sends (a PubAck, a duplicate's PubAck,
 * an API error, a 503 status), out of order, late, and not at all.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Msg, NatsConnection } from 'nats';
import { AckInbox, type PendingAck } from '../src/ship/acks.js';
import type { NatsModule } from '../src/ship/connection.js';

type Callback = (err: Error | null, m: Msg) => void;

function fakes(): { nats: NatsModule; nc: NatsConnection; reply(subject: string, body: string, status?: { code: number; description: string }): void; fail(err: Error): void; subject: () => string } {
  let callback: Callback | undefined;
  let subscribed = '';
  const nats = { createInbox: () => '_INBOX.test' } as unknown as NatsModule;
  const nc = {
    subscribe: (subject: string, opts: { callback: Callback }) => {
      subscribed = subject;
      callback = opts.callback;
      return { unsubscribe: () => undefined };
    },
  } as unknown as NatsConnection;
  return {
    nats,
    nc,
    subject: () => subscribed,
    reply: (subject, body, status) => {
      const data = Buffer.from(body);
      const headers = status ? { hasError: true, code: status.code, description: status.description } : undefined;
      callback!(null, { subject, data, headers, string: () => body } as unknown as Msg);
    },
    fail: (err) => callback!(err, undefined as unknown as Msg),
  };
}

const entry = (): PendingAck => ({ settled: false, seq: 0, error: undefined, sentAt: Date.now(), id: 0 });

test('acks settle their own message by reply subject, in any order; a duplicate gets the original sequence', async () => {
  const f = fakes();
  const inbox = new AckInbox(f.nats, f.nc, 5000);
  assert.equal(f.subject(), '_INBOX.test.*');
  const a = entry();
  const b = entry();
  const c = entry();
  assert.deepEqual([inbox.track(a), inbox.track(b), inbox.track(c)], ['_INBOX.test.0', '_INBOX.test.1', '_INBOX.test.2']);
  f.reply('_INBOX.test.2', '{"stream":"S","seq":12,"duplicate":true}');
  f.reply('_INBOX.test.0', '{"stream":"S","seq":10}');
  await inbox.wait(a);
  assert.deepEqual([a.settled, a.seq, a.error, b.settled, c.settled, c.seq], [true, 10, undefined, false, true, 12]);
  const waiting = inbox.wait(b);
  f.reply('_INBOX.test.1', '{"stream":"S","seq":11}');
  await waiting;
  assert.deepEqual([b.settled, b.seq], [true, 11]);
});

test('an API error, a 503 status and an ack without a sequence fail their message with a code', async () => {
  const f = fakes();
  const inbox = new AckInbox(f.nats, f.nc, 5000);
  const [a, b, c] = [entry(), entry(), entry()];
  const subjects = [a, b, c].map((e) => inbox.track(e));
  f.reply(subjects[0]!, '{"error":{"code":400,"err_code":10060,"description":"expected stream does not match"}}');
  f.reply(subjects[1]!, '', { code: 503, description: 'No Responders' });
  f.reply(subjects[2]!, '{"stream":""}');
  for (const e of [a, b, c]) await inbox.wait(e);
  assert.deepEqual(
    [a, b, c].map((e) => [(e.error as { code: string }).code, (e.error as Error).message]),
    [
      ['400', 'expected stream does not match'],
      ['503', 'JetStream did not take the message: 503 No Responders'],
      ['INVALID_JS_ACK', 'Invalid JetStream publish ack'],
    ],
  );
  assert.equal((a.error as { api_error: { err_code: number } }).api_error.err_code, 10060);
});

test('no ack within ackTimeout fails the message with TIMEOUT; its late ack is ignored', async () => {
  const f = fakes();
  const inbox = new AckInbox(f.nats, f.nc, 30);
  const a = entry();
  const subject = inbox.track(a);
  await inbox.wait(a);
  assert.deepEqual([a.settled, (a.error as { code: string }).code, (a.error as Error).message], [true, 'TIMEOUT', 'No ack from the server within 30 ms']);
  f.reply(subject, '{"stream":"S","seq":1}');
  assert.deepEqual([a.seq, (a.error as { code: string }).code], [0, 'TIMEOUT']);
});

test('a failed subscription fails every message waiting', async () => {
  const f = fakes();
  const inbox = new AckInbox(f.nats, f.nc, 5000);
  const [a, b] = [entry(), entry()];
  inbox.track(a);
  inbox.track(b);
  const waiting = inbox.wait(a);
  const err = Object.assign(new Error('closed'), { code: 'CONNECTION_CLOSED' });
  f.fail(err);
  await waiting;
  assert.equal(a.error, err);
  assert.equal(b.error, err);
});

test('more messages pending than the ring has slots: each ack still settles its own, and a stale or foreign reply settles none', async () => {
  const f = fakes();
  const inbox = new AckInbox(f.nats, f.nc, 5000);
  // 64 slots at first: 200 pending makes it grow twice, with the oldest still unsettled.
  const entries = Array.from({ length: 200 }, entry);
  const subjects = entries.map((e) => inbox.track(e));
  assert.deepEqual([subjects[0], subjects[199]], ['_INBOX.test.0', '_INBOX.test.199']);
  // Acks in reverse order, each with its own sequence (1000 + id).
  for (let i = 199; i >= 0; i--) f.reply(subjects[i]!, `{"stream":"S","seq":${1000 + i}}`);
  assert.deepEqual(entries.map((e) => e.seq), entries.map((_, i) => 1000 + i));
  // Slot 0 of 256 is free again: an id that maps there, one never tracked, and a non-number settle nothing.
  const late = entry();
  const lateSubject = inbox.track(late);
  assert.equal(lateSubject, '_INBOX.test.200');
  f.reply('_INBOX.test.456', '{"stream":"S","seq":1}');
  f.reply('_INBOX.test.x', '{"stream":"S","seq":1}');
  f.reply('_INBOX.test.0', '{"stream":"S","seq":1}');
  assert.deepEqual([late.settled, late.seq], [false, 0]);
  f.reply(lateSubject, '{"stream":"S","seq":2000}');
  await inbox.wait(late);
  assert.deepEqual([late.settled, late.seq, late.error], [true, 2000, undefined]);
});
