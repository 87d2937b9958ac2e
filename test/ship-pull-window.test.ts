/**
 * Issue 12, item 2 (memory bounded whatever the backlog): the puller asks
 * the server for at most `pullWindowBytes` at a time. Asking for 512
 * messages at once made the server push hundreds of MB; past its
 * `max_pending` it cut the puller off as a slow consumer and the pull
 * stalled. A server with a small max_pending makes that happen here.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BinaryLogger, readLog } from '../src/index.js';
import { pull, ship } from '../src/ship/index.js';
import { tempDir } from './helpers.js';
import { SKIP_NO_SERVER } from './ship/nats-server.js';
import { serverForSuite } from './ship/crash.js';

const RECORDS = 24_000;
const record = (i: number): Buffer => Buffer.from(`${i} `.padEnd(1000, String.fromCharCode(97 + (i % 26))));

describe('pull window', { skip: SKIP_NO_SERVER }, () => {
  // 64 KiB messages, and the server gives up on a client 1 MB behind.
  const server = serverForSuite({ config: 'max_payload: 65536\nmax_pending: 1048576\n' });

  test('a backlog many times the server max_pending is pulled whole, in order', { timeout: 120_000 }, async (t) => {
    const dir = tempDir(t);
    const src = join(dir, 'src', 'events.bin');
    {
      using logger = new BinaryLogger(src, { maxFileSize: 8 << 20 });
      for (let i = 0; i < RECORDS; i++) logger.write(record(i));
    }
    const shipped = await ship(src, { servers: server.url, stream: 'WIN', subject: 'logs.win', once: true }).done;
    assert.equal(shipped.records, RECORDS);
    assert.ok(shipped.messages >= 360, `24 MB in 64 KiB messages: ${shipped.messages} messages`);

    const central = join(dir, 'central', 'all.bin');
    const pulled = await pull(central, { servers: server.url, stream: 'WIN', once: true, pullWindowBytes: 512 << 10 }).done;
    assert.equal(pulled.records, RECORDS);
    assert.equal(pulled.streamSeq, shipped.messages);
    let i = 0;
    for (const p of readLog(central, { encoding: 'buffer' })) {
      assert.ok(p.equals(record(i)), `record ${i}`);
      i++;
    }
    assert.equal(i, RECORDS);
  });
});
