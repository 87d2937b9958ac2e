/**
 * Issue 12, item 5: exactly once whatever crashes, against a real
 * nats-server. A short version of `npm run test:ship-crash`.
 */
import { after, before, describe, test } from 'node:test';
import { tempDir } from './helpers.js';
import { killLeftovers, pullerKilled, serverKilledWhileShipping, shipperKilledAtRandom, shipperKilledBetweenAckAndCheckpoint } from './ship/crash.js';
import { NatsServer, SKIP_NO_SERVER } from './ship/nats-server.js';

describe('shipping and pulling survive crashes', { skip: SKIP_NO_SERVER }, () => {
  let server: NatsServer;
  before(async () => {
    server = await NatsServer.start();
  });
  after(async () => {
    killLeftovers();
    await server?.stop();
  });

  test('a shipper SIGKILLed at random moments, 6 rounds, leaves every record in the stream once and in order', async (t) => {
    await shipperKilledAtRandom(server, tempDir(t), 6, 1);
  });

  test('a shipper killed between an ack and its checkpoint, restarted after the duplicate window, republishes nothing', async (t) => {
    await shipperKilledBetweenAckAndCheckpoint(server, tempDir(t), [1, 3]);
  });

  test('nats-server SIGKILLed and restarted three times while shipping: every record arrives once', async (t) => {
    server = await serverKilledWhileShipping(server, tempDir(t));
  });

  test('a puller SIGKILLed at random moments and between append and checkpoint leaves the central log exact, record by record', async (t) => {
    await pullerKilled(server, tempDir(t), 6, 2);
  });
});
