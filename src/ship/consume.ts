/**
 * The puller's ordered consumer, started so that a cluster with a node down
 * cannot hold it up (issue 12: more than one server).
 *
 * nats-server 2.9 places a one-replica consumer (an ordered consumer is
 * one) on any of the stream's peers, a dead one too, and then never
 * answers the create; about one attempt in three timed out, for as long as
 * the node stayed down. The client retries a create under the same
 * consumer name, which the server has already assigned to the dead peer,
 * so every retry timed out too (30 s apart, 30 times): the cluster test hung
 * in 2 runs of 6, and in 5 of 12 with the retries 2 s apart. So the client
 * is told to give up at the first unanswered create, and a new ordered
 * consumer, under a new name (placed anew), is asked for.
 */
import type { ConsumerMessages } from 'nats';
import type { NatsConnection, NatsModule } from './types.js';
import { TRANSIENT_WAIT_MS, retryTransient } from './stream.js';

/** Ms a pull request waits for messages (idle, one small request that often). */
const PULL_EXPIRES_MS = 2000;

/** Ms the server has to answer a consumer create before a new consumer is asked for. */
const CONSUMER_API_TIMEOUT_MS = 2000;

export interface ConsumeSettings {
  stream: string;
  /** Subject filter. */
  filter: string;
  /** First stream sequence to deliver. */
  startSeq: number;
  /** Most message bytes asked of the server at once. */
  maxBytes: number;
}

/** The messages of `stream` from `startSeq` on, in stream order, through an ordered consumer. */
export function consumeOrdered(nats: NatsModule, nc: NatsConnection, s: ConsumeSettings): Promise<ConsumerMessages> {
  return retryTransient(async () => {
    const consumer = await nc.jetstream({ timeout: CONSUMER_API_TIMEOUT_MS }).consumers.get(s.stream, {
      filterSubjects: s.filter,
      deliver_policy: nats.DeliverPolicy.StartSequence,
      opt_start_seq: s.startSeq,
    });
    // The client's own field (nats 2.29): how many unanswered creates it retries under one name.
    (consumer as unknown as { maxInitialReset?: number }).maxInitialReset = 0;
    return consumer.consume({ max_bytes: s.maxBytes, expires: PULL_EXPIRES_MS });
  }, TRANSIENT_WAIT_MS);
}
