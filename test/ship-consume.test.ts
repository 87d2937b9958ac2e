/**
 * Issue 12, a cluster with a node down: the puller's ordered consumer is
 * asked for anew (a new consumer, so a new name and placement) when its
 * creation is not answered, instead of letting the client retry under the
 * same name for minutes (consume.ts). Fed fakes of the client's objects.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConsumerMessages } from 'nats';
import { consumeOrdered } from '../src/ship/consume.js';
import type { NatsConnection, NatsModule } from '../src/ship/types.js';

interface FakeConsumer {
  maxInitialReset: number;
  opts: unknown;
  consume(opts: unknown): Promise<ConsumerMessages>;
}

function fakes(outcomes: (Error | 'ok')[]): { nats: NatsModule; nc: NatsConnection; made: FakeConsumer[]; gets: unknown[][]; timeouts: unknown[] } {
  const made: FakeConsumer[] = [];
  const gets: unknown[][] = [];
  const timeouts: unknown[] = [];
  const messages = { fake: 'messages' } as unknown as ConsumerMessages;
  const nats = { DeliverPolicy: { StartSequence: 'by_start_sequence' } } as unknown as NatsModule;
  const nc = {
    jetstream: (opts: { timeout: number }) => {
      timeouts.push(opts.timeout);
      return {
        consumers: {
          get: async (stream: string, config: unknown) => {
            gets.push([stream, config]);
            const outcome = outcomes[made.length];
            const consumer: FakeConsumer = {
              maxInitialReset: 30, // the client's default
              opts: undefined,
              consume(opts) {
                this.opts = opts;
                if (outcome === 'ok') return Promise.resolve(messages);
                // Given maxInitialReset 0, the client fails at its first unanswered create; else it would
                // retry under the same name for minutes (here: fails at once, not as a transient error).
                return Promise.reject(this.maxInitialReset === 0 ? outcome : new Error('would retry under one name for minutes'));
              },
            };
            made.push(consumer);
            return consumer;
          },
        },
      };
    },
  } as unknown as NatsConnection;
  return { nats, nc, made, gets, timeouts };
}

const timeout = (): Error => Object.assign(new Error('TIMEOUT'), { code: 'TIMEOUT' });

test('an unanswered consumer creation is given up at once and a new ordered consumer asked for, until one answers', async () => {
  const f = fakes([timeout(), timeout(), 'ok']);
  const messages = await consumeOrdered(f.nats, f.nc, { stream: 'LOGS', filter: 'logs.>', startSeq: 42, maxBytes: 1 << 22 });
  assert.deepEqual(messages, { fake: 'messages' });
  assert.equal(f.made.length, 3);
  assert.deepEqual(f.made.map((c) => c.maxInitialReset), [0, 0, 0]);
  assert.deepEqual(f.made.map((c) => c.opts), Array(3).fill({ max_bytes: 1 << 22, expires: 2000 }));
  assert.deepEqual(f.gets, Array(3).fill(['LOGS', { filterSubjects: 'logs.>', deliver_policy: 'by_start_sequence', opt_start_seq: 42 }]));
  assert.deepEqual(f.timeouts, [2000, 2000, 2000]);
});

test('a failure that is not transient is not retried', async () => {
  const denied = Object.assign(new Error('permissions violation'), { code: 'PERMISSIONS_VIOLATION' });
  const f = fakes([denied, 'ok']);
  await assert.rejects(consumeOrdered(f.nats, f.nc, { stream: 'LOGS', filter: '>', startSeq: 1, maxBytes: 1 }), denied);
  assert.equal(f.made.length, 1);
});
