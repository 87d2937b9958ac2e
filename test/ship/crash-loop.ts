/**
 * `npm run test:ship-crash`: the crash scenarios of test/ship/crash.ts with
 * many rounds (issue 12, item 5): node build/test/ship/crash-loop.js
 * [rounds] [seed]. test/ship-crash.test.ts runs a short version in npm test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pullerKilled, serverKilledWhileShipping, shipperKilledAtRandom, shipperKilledBetweenAckAndCheckpoint } from './crash.js';
import { NATS_SERVER, NatsServer } from './nats-server.js';

const rounds = Number(process.argv[2] ?? 50);
const seed = Number(process.argv[3] ?? Date.now() % 100_000);

if (!NATS_SERVER) {
  console.log('test:ship-crash skipped: nats-server is not installed (apt-get install nats-server)');
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'binlog-ship-crash-'));
let server = await NatsServer.start();
try {
  const started = Date.now();
  console.log(`ship crash loop: ${rounds} rounds, seed ${seed}`);
  for (let chain = 0; chain * 10 < rounds; chain++) {
    const n = Math.min(10, rounds - chain * 10);
    await shipperKilledAtRandom(server, dir, n, seed + chain);
    console.log(`  shipper SIGKILLed at random: ${n} rounds (seed ${seed + chain}) ok`);
    await pullerKilled(server, dir, n, seed + chain);
    console.log(`  puller SIGKILLed: ${n} rounds (seed ${seed + chain}) ok`);
  }
  await shipperKilledBetweenAckAndCheckpoint(server, dir, [1, 2, 5, 9, 17]);
  console.log('  shipper killed between ack and checkpoint, restarted past the duplicate window: ok');
  server = await serverKilledWhileShipping(server, dir);
  console.log('  nats-server SIGKILLed 3 times while shipping: ok');
  console.log(`all ok in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
