/**
 * Issue 6: retention (maxFiles, maxTotalSize, maxAge), 'rotate' events and
 * gzip-compressed backups read transparently.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { BinaryLogger, follow, readLog } from '../src/index.js';
import { frame, listFiles, tempDir } from './helpers.js';

const names = (dir: string): string[] => listFiles(dir).map((f) => f.name).filter((n) => !n.startsWith('.'));

/** Each record of 10 bytes on disk fills a file of maxFileSize 10: one rollover per write. */
function writeOnePerFile(logger: BinaryLogger, from: number, to: number): void {
  for (let i = from; i < to; i++) logger.write(`rec${String(i).padStart(3, '0')}`);
}

test('maxFiles keeps the newest backups, and numbering goes on after a reopen', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  {
    using logger = new BinaryLogger(path, { maxFileSize: 10, maxFiles: 3 });
    writeOnePerFile(logger, 0, 8);
    assert.deepEqual(names(dir), ['events.5.bin', 'events.6.bin', 'events.7.bin', 'events.bin']);
  }
  {
    using logger = new BinaryLogger(path, { maxFileSize: 10, maxFiles: 2 });
    // At open the limit is applied at once.
    assert.deepEqual(names(dir), ['events.6.bin', 'events.7.bin', 'events.bin']);
    writeOnePerFile(logger, 8, 9);
  }
  assert.deepEqual(names(dir), ['events.7.bin', 'events.8.bin', 'events.bin']);
  assert.deepEqual([...readLog(path)], ['rec007', 'rec008']);
});

test('maxTotalSize deletes the oldest backups but always keeps the newest', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  using logger = new BinaryLogger(path, { maxFileSize: 10, maxTotalSize: 25 });
  writeOnePerFile(logger, 0, 5);
  assert.deepEqual(names(dir), ['events.3.bin', 'events.4.bin', 'events.bin'], '2 x 10 bytes <= 25');
  logger.write('x'.repeat(40)); // a 44-byte backup, over the limit alone
  assert.deepEqual(names(dir), ['events.5.bin', 'events.bin']);
});

test('maxAge deletes backups older than it at the next rollover, never the newest', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  using logger = new BinaryLogger(path, { maxFileSize: 10, maxAge: 60_000 });
  writeOnePerFile(logger, 0, 3);
  const old = new Date(Date.now() - 120_000);
  for (const n of [0, 1, 2]) utimesSync(join(dir, `events.${n}.bin`), old, old);
  writeOnePerFile(logger, 3, 4);
  assert.deepEqual(names(dir), ['events.3.bin', 'events.bin']);
  utimesSync(join(dir, 'events.3.bin'), old, old);
  logger.write('tiny'); // no rollover: nothing is deleted
  assert.deepEqual(names(dir), ['events.3.bin', 'events.bin']);
});

test('retention never touches look-alike files', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const others = ['events.x.bin', 'events.01.bin', 'events.bin.bak', 'other.0.bin'];
  for (const n of others) writeFileSync(join(dir, n), 'keep me');
  {
    using logger = new BinaryLogger(path, { maxFileSize: 10, maxFiles: 1 });
    writeOnePerFile(logger, 0, 4);
  }
  assert.deepEqual(names(dir), [...others, 'events.3.bin', 'events.bin'].sort());
  for (const n of others) assert.equal(readFileSync(join(dir, n), 'utf8'), 'keep me');
});

test('the logger emits rotate with each new backup\'s path, in order', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  using logger = new BinaryLogger(path, 10);
  const rotated: string[] = [];
  logger.on('rotate', (backup: string) => {
    assert.ok(existsSync(backup), 'the backup exists when the event comes');
    rotated.push(backup);
  });
  writeOnePerFile(logger, 0, 3);
  logger.write('no');
  assert.deepEqual(rotated, [0, 1, 2].map((n) => join(dir, `events.${n}.bin`)));
});

test('a rollover done by a worker thread reaches the owner as a rotate event', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const logger = new BinaryLogger(path, 10);
  const code = `
    const { workerData } = require('node:worker_threads');
    import(workerData.module).then(({ BinaryLogger }) => {
      const logger = BinaryLogger.attach(workerData.handle);
      logger.write('from-w');
      logger.close();
    });`;
  const module = new URL('../src/index.js', import.meta.url).href;
  const rotated = once(logger, 'rotate');
  const worker = new Worker(code, { eval: true, workerData: { handle: logger.share(), module } });
  assert.equal((await once(worker, 'exit'))[0], 0);
  assert.deepEqual(await rotated, [join(dir, 'events.0.bin')]);
  logger.close();
});

test('compress gzips each sealed backup, and every reader reads them transparently', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const logger = new BinaryLogger(path, { maxFileSize: 30, compress: true });
  const compressed: string[] = [];
  logger.on('compress', (gz: string) => compressed.push(gz));
  const records = Array.from({ length: 12 }, (_, i) => `record number ${i}`); // 21 bytes: 2 a file
  for (const r of records) logger.write(r);
  await logger.whenCompressed();
  assert.deepEqual(compressed, [0, 1, 2, 3, 4, 5].map((n) => join(dir, `events.${n}.bin.gz`)));
  assert.deepEqual(names(dir), [...[0, 1, 2, 3, 4, 5].map((n) => `events.${n}.bin.gz`), 'events.bin']);
  const gz = readFileSync(join(dir, 'events.0.bin.gz'));
  assert.deepEqual(gz.subarray(0, 2), Buffer.from([0x1f, 0x8b]));
  assert.deepEqual([...readLog(path)], records);
  assert.deepEqual([...logger.read()], records);
  logger.write('after');
  const ac = new AbortController();
  const got: string[] = [];
  try {
    for await (const r of follow(path, { signal: ac.signal, fromStart: true })) {
      got.push(r);
      if (got.length === 13) ac.abort();
    }
  } catch (err) {
    assert.equal((err as Error).name, 'AbortError');
  }
  assert.deepEqual(got, [...records, 'after']);
  logger.close();
});

test('compression a crash left half done is finished at open, and nothing is read twice', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  // Backup 0 compressed but its plain file not yet removed; backup 1 with a
  // partial .gz.tmp; backup 2 not started.
  writeFileSync(join(dir, 'events.0.bin'), frame('a', 'b'));
  writeFileSync(join(dir, 'events.0.bin.gz'), gzipSync(frame('a', 'b')));
  writeFileSync(join(dir, 'events.1.bin'), frame('c'));
  writeFileSync(join(dir, 'events.1.bin.gz.tmp'), Buffer.from([0x1f, 0x8b, 8]));
  writeFileSync(join(dir, 'events.2.bin'), frame('d'));
  assert.deepEqual([...readLog(path)], ['a', 'b', 'c', 'd'], 'a plain backup wins over its .gz');
  const logger = new BinaryLogger(path, { maxFileSize: 100, compress: true });
  await logger.whenCompressed();
  assert.deepEqual(names(dir), ['events.0.bin.gz', 'events.1.bin.gz', 'events.2.bin.gz', 'events.bin']);
  assert.deepEqual([...readLog(path)], ['a', 'b', 'c', 'd']);
  logger.close();
});

test('a corrupt .gz backup is reported as CorruptLogError naming it', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(join(dir, 'events.0.bin.gz'), Buffer.from('not gzip at all'));
  assert.throws(() => [...readLog(path)], { code: 'ERR_LOG_CORRUPT', path: join(dir, 'events.0.bin.gz'), offset: 0 });
  assert.equal(statSync(join(dir, 'events.0.bin.gz')).size, 15);
});

test('a small .gz that claims less than it decompresses to is refused before it can fill memory', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const bomb = gzipSync(Buffer.alloc(50 << 20)); // 50 MiB of zeros: about 50 KB compressed
  bomb.writeUInt32LE(1000, bomb.length - 4); // the trailer claims 1000 bytes
  writeFileSync(join(dir, 'events.0.bin.gz'), bomb);
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(() => [...readLog(path)], { code: 'ERR_LOG_CORRUPT', path: join(dir, 'events.0.bin.gz') });
  assert.ok(process.memoryUsage().arrayBuffers - before < 10 << 20);
});
