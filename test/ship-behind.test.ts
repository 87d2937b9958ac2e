/**
 * Issue 12, items 3 and 5: a shipper far behind while the log rolls over,
 * compresses and applies retention. Retention keeps what the shipper has not
 * finished (maxFiles waits); the hard maxTotalSize drops it with
 * BINLOG_UNSHIPPED_DROPPED, and the shipper goes on from the oldest record
 * left.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BinaryLogger, readLog } from '../src/index.js';
import { ship } from '../src/ship/index.js';
import { collectWarnings, listFiles, tempDir } from './helpers.js';
import { record } from './ship/crash.js';
import { NatsServer, SKIP_NO_SERVER, streamRecords } from './ship/nats-server.js';
import { waitUntil } from './ship/wait.js';

const backups = (dir: string): string[] => listFiles(dir).map((f) => f.name).filter((n) => /^events\.\d+\.bin(\.gz)?$/.test(n));

describe('a shipper far behind the log', { skip: SKIP_NO_SERVER }, () => {
  let server: NatsServer;
  before(async () => {
    server = await NatsServer.start();
  });
  after(async () => {
    await server?.stop();
  });

  test('rollover, compression and maxFiles retention keep what it has not shipped; it catches up exactly', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const written: Buffer[] = [];
    const logger = new BinaryLogger(path, { maxFileSize: 1024, compress: true, maxFiles: 2 });
    const write = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const r = record('behind', written.length);
        written.push(r);
        logger.write(r);
      }
    };
    // Fewer than fill one file: no rollover yet, so no retention before the shipper's first checkpoint.
    write(10);
    const opts = { servers: server.url, stream: 'BEHIND', subject: 'logs.behind', maxBatchBytes: 4096 };
    assert.equal((await ship(path, { ...opts, once: true }).done).records, 10);
    write(3090);
    await logger.whenCompressed();
    // Far behind: every backup since the checkpoint is still there, compressed.
    const kept = backups(dir);
    assert.ok(kept.length > 50, `${kept.length} backups`);
    assert.ok(kept.every((n) => n.endsWith('.gz')), kept.join(' '));
    assert.deepEqual([...readLog(path, { encoding: 'buffer' })], written);
    // It follows and catches up...
    const shipper = ship(path, { ...opts, pollInterval: 10 });
    const caughtUp = async (): Promise<boolean> => (await streamRecords(server.url, 'BEHIND')).payloads.length >= written.length;
    const state = async (): Promise<string> => `${(await streamRecords(server.url, 'BEHIND')).payloads.length} of ${written.length} records in the stream; files: ${backups(dir).join(' ')}`;
    await waitUntil('the shipper to catch up with the backups', caughtUp, { state });
    // ...then, following, it reads backups that compression replaces by their .gz
    // while it walks them (a walk listed events.N.bin and opened it after it was
    // gone: its records were skipped), and maxFiles applies behind it.
    write(2000);
    await logger.whenCompressed();
    await waitUntil('the following shipper to ship every record written', caughtUp, { state });
    const stopped = await shipper.stop();
    assert.equal(stopped.records, written.length - 10);
    assert.deepEqual((await streamRecords(server.url, 'BEHIND')).payloads, written);
    // Shipped: the next rollover lets maxFiles apply again.
    write(60);
    logger.close();
    assert.ok(backups(dir).length <= 3, backups(dir).join(' '));
  });

  test('maxTotalSize drops unshipped backups with BINLOG_UNSHIPPED_DROPPED, and the shipper goes on from the oldest record left', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const first: Buffer[] = [];
    const logger = new BinaryLogger(path, { maxFileSize: 1024, maxTotalSize: 8 * 1024 });
    for (let i = 0; i < 50; i++) logger.write(first[i] = record('hard', i));
    const opts = { servers: server.url, stream: 'HARD', subject: 'logs.hard', once: true };
    await ship(path, opts).done;
    const capture = collectWarnings();
    for (let i = 50; i < 2000; i++) logger.write(record('hard', i));
    // Warnings are emitted a tick after the call that raised them.
    await new Promise((resolve) => setImmediate(resolve));
    capture.stop();
    const warnings = capture.seen;
    logger.close();
    assert.ok(warnings.length > 0);
    for (const w of warnings) {
      assert.equal(w.code, 'BINLOG_UNSHIPPED_DROPPED');
      assert.match(w.message, /^maxTotalSize deleted \d+ backup\(s\) of ".*events\.bin" that a shipper had not finished: .*events\.\d+\.bin/);
    }
    const survivors = [...readLog(path, { encoding: 'buffer' })];
    assert.ok(survivors.length < 1950);
    await ship(path, opts).done;
    assert.deepEqual((await streamRecords(server.url, 'HARD')).payloads, [...first, ...survivors]);
  });
});
