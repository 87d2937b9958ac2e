/**
 * Issue 12: a three-node nats-server cluster on loopback ports. The shipper
 * is given every server URL and creates the stream with 3 replicas; a node
 * is SIGKILLed and shipping goes on: the records are in the stream once, in
 * order, and pull into a byte-exact central log.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readLog } from '../../src/index.js';
import { pull, ship } from '../../src/ship/index.js';
import { tempDir } from '../helpers.js';
import { appendRecords, record } from './crash.js';
import { NatsServer, SKIP_NO_SERVER, startCluster, streamRecords } from './nats-server.js';

describe('a three-node cluster', { skip: SKIP_NO_SERVER }, () => {
  let nodes: NatsServer[] = [];
  before(async () => {
    nodes = await startCluster(3);
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  // A hang (the puller's consumer placed on the dead node, retried every 30 s) fails here rather than stalling the suite.
  test('ships with 3 replicas through a node failure, exactly once, and pulls from any node', { timeout: 90_000 }, async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const urls = nodes.map((n) => n.url);
    appendRecords(path, 'c', 0, 3000, 8192);
    const opts = { servers: urls, stream: 'CLUSTER', subject: 'logs.c', replicas: 3, maxBatchBytes: 4096, once: true };
    assert.equal((await ship(path, opts).done).records, 3000);
    const { connect } = await import('nats');
    const nc = await connect({ servers: urls });
    const info = await (await nc.jetstreamManager()).streams.info('CLUSTER');
    await nc.close();
    assert.equal(info.config.num_replicas, 3);
    assert.equal(info.cluster?.replicas?.length, 2);
    // One node down: a quorum of two still accepts and stores.
    await nodes[0]!.kill();
    appendRecords(path, 'c', 3000, 5000, 8192);
    assert.equal((await ship(path, opts).done).records, 2000);
    // Read while the node is still down: a node rejoining serves its old state until it has caught up.
    const expected = Array.from({ length: 5000 }, (_, n) => record('c', n));
    assert.deepEqual((await streamRecords(nodes[2]!.url, 'CLUSTER')).payloads, expected);
    const central = join(dir, 'central.bin');
    await pull(central, { servers: [nodes[1]!.url], stream: 'CLUSTER', once: true }).done;
    assert.deepEqual([...readLog(central, { encoding: 'buffer' })], expected);
  });
});
