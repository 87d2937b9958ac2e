/**
 * Issue 6: Node streams and pino.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import pino from 'pino';
import { BinaryLogger, createReadStream, createWriteStream, readLog } from '../src/index.js';
import { tempDir } from './helpers.js';

test('pipeline() into createWriteStream writes each chunk as one record, with rollover', async (t) => {
  const path = join(tempDir(t), 'events.bin');
  const items = Array.from({ length: 500 }, (_, i) => (i % 3 === 0 ? Buffer.from([i & 0xff, 0, 10]) : `line ${i}\nwith newline`));
  await pipeline(Readable.from(items), createWriteStream(path, { maxFileSize: 1000, durability: 'buffered' }));
  const back = [...readLog(path, { encoding: 'buffer' })];
  assert.equal(back.length, 500);
  for (let i = 0; i < 500; i++) assert.deepEqual(back[i], Buffer.from(items[i]!));
});

test('a write stream on a given logger flushes it at the end and leaves it open', async (t) => {
  const path = join(tempDir(t), 'events.bin');
  using logger = new BinaryLogger(path, { maxFileSize: 1 << 20, durability: 'buffered', flushInterval: 0 });
  await pipeline(Readable.from(['a', 'b']), createWriteStream(logger));
  assert.equal(logger.closed, false);
  assert.equal(logger.pendingBytes, 0);
  assert.deepEqual([...readLog(path)], ['a', 'b']);
});

test('a bad chunk fails the pipeline with the write error, and the stream closes its logger', async (t) => {
  const path = join(tempDir(t), 'events.bin');
  const stream = createWriteStream(path, { maxFileSize: 100 });
  await assert.rejects(pipeline(Readable.from(['ok', 42 as unknown as string, 'never']), stream), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.deepEqual([...readLog(path)], ['ok']);
  // The log is closed: a new logger can open it.
  using again = new BinaryLogger(path, 100);
  assert.equal(again.closed, false);
});

test('createReadStream is an object-mode Readable of the records, with backpressure', async (t) => {
  const path = join(tempDir(t), 'events.bin');
  {
    using logger = new BinaryLogger(path, 64);
    for (let i = 0; i < 300; i++) logger.write(`r${i}`);
  }
  const seen: string[] = [];
  let maxBuffered = 0;
  const source = createReadStream(path, { highWaterMark: 16 });
  await pipeline(
    source,
    new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(chunk: string, _e, cb) {
        maxBuffered = Math.max(maxBuffered, source.readableLength);
        seen.push(chunk);
        setImmediate(cb);
      },
    }),
  );
  assert.deepEqual(seen, Array.from({ length: 300 }, (_, i) => `r${i}`));
  assert.ok(maxBuffered <= 16, `at most highWaterMark records read ahead (saw ${maxBuffered})`);
  const raw = await createReadStream(path, { encoding: 'buffer' }).toArray();
  assert.deepEqual(raw[5], Buffer.from('r5'));
});

test('createReadStream with follow goes on with appended records until its signal aborts', async (t) => {
  const path = join(tempDir(t), 'events.bin');
  using logger = new BinaryLogger(path, 40);
  logger.write('first');
  const ac = new AbortController();
  const stream = createReadStream(path, { follow: true, signal: ac.signal, pollInterval: 5 });
  const got: string[] = [];
  const done = new Promise<unknown>((resolve) => {
    stream.on('data', (r: string) => {
      got.push(r);
      if (got.length === 1) for (let i = 0; i < 10; i++) logger.write(`live ${i}`);
      if (got.length === 11) ac.abort();
    });
    stream.on('error', resolve);
    stream.on('close', () => resolve(undefined));
  });
  const err = (await done) as Error | undefined;
  assert.equal(err?.name, 'AbortError');
  assert.deepEqual(got, ['first', ...Array.from({ length: 10 }, (_, i) => `live ${i}`)]);
});

test('pino(logger) writes each log line as one record', async (t) => {
  const path = join(tempDir(t), 'events.bin');
  const logger = new BinaryLogger(path, { maxFileSize: 400, durability: 'buffered' });
  const log = pino({ base: null, timestamp: false }, logger);
  for (let i = 0; i < 20; i++) log.info({ i }, `event ${i}`);
  log.warn('multi\nline');
  await new Promise<void>((resolve, reject) => log.flush((err) => (err ? reject(err) : resolve())));
  const records = [...readLog(path)];
  assert.equal(records.length, 21);
  assert.deepEqual(JSON.parse(records[3]!), { level: 30, i: 3, msg: 'event 3' });
  assert.deepEqual(JSON.parse(records[20]!), { level: 40, msg: 'multi\nline' });
  assert.ok(records.every((r) => r.endsWith('\n') && r.indexOf('\n') === r.length - 1), 'one line per record, with its newline');
  logger.close();
});
