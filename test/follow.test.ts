/**
 * Issue 6: positions, resuming from them, and following a live log.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BinaryLogger, follow, readLog, type LogEntry } from '../src/index.js';
import { tempDir } from './helpers.js';

const APPENDER = new URL('./fixtures/append-child.js', import.meta.url).pathname;
const record = (n: number): string => `r${n}:${'p'.repeat(n % 37)}`;

test('readLog reports each record\'s position and resumes from any of them', (t) => {
  const path = join(tempDir(t), 'events.bin');
  {
    using logger = new BinaryLogger(path, 40);
    for (let n = 0; n < 30; n++) logger.write(record(n));
  }
  const entries = [...readLog(path, { withPositions: true })];
  assert.deepEqual(entries.map((e) => e.payload), Array.from({ length: 30 }, (_, n) => record(n)));
  // Positions: seq of the file, offset of the record; next is just past it.
  assert.deepEqual(entries[0]!.position, { seq: 0, offset: 0 });
  assert.deepEqual(entries[0]!.next, { seq: 0, offset: 4 + record(0).length });
  for (const e of entries) assert.equal(e.next.offset - e.position.offset, 4 + Buffer.byteLength(e.payload));
  for (let i = 0; i < entries.length; i++) {
    const resumed = [...readLog(path, { from: entries[i]!.position })];
    assert.deepEqual(resumed, entries.slice(i).map((e) => e.payload), `from record ${i}`);
    const after = [...readLog(path, { from: entries[i]!.next })];
    assert.deepEqual(after, entries.slice(i + 1).map((e) => e.payload), `after record ${i}`);
  }
});

test('a position in the current file stays valid after the file is rolled over', (t) => {
  const path = join(tempDir(t), 'events.bin');
  const logger = new BinaryLogger(path, 100);
  for (let n = 0; n < 3; n++) logger.write(`a${n}`); // 15 bytes, current file
  const [, second] = [...readLog(path, { withPositions: true })] as LogEntry[];
  assert.deepEqual(second!.position, { seq: 0, offset: 6 }, 'the current file will become backup 0');
  logger.write('x'.repeat(90)); // reaches 100: rolled over to events.0.bin
  logger.write('b0');
  logger.close();
  assert.deepEqual([...readLog(path, { from: second!.position })], ['a1', 'a2', 'x'.repeat(90), 'b0']);
});

test('a position whose backup was deleted resumes at the oldest record left', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  {
    using logger = new BinaryLogger(path, 10);
    for (let n = 0; n < 4; n++) logger.write(`record${n}`); // one per file
  }
  rmSync(join(dir, 'events.1.bin'));
  assert.deepEqual([...readLog(path, { from: { seq: 1, offset: 0 } })], ['record2', 'record3']);
  assert.throws(() => [...readLog(path, { from: { seq: 9, offset: 0 } })], { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => [...readLog(path, { from: { seq: -1, offset: 0 } })], { code: 'ERR_INVALID_ARG_TYPE' });
});

test('follow yields every record of a writer in another process, across many rollovers, once each and in order', async (t) => {
  const path = join(tempDir(t), 'events.bin');
  writeFileSync(path, ''); // follow() needs a log to follow: an empty current file is one
  const count = 3000;
  const ac = new AbortController();
  const got: string[] = [];
  const following = (async () => {
    try {
      for await (const r of follow(path, { signal: ac.signal, fromStart: true, pollInterval: 20 })) {
        got.push(r);
        if (got.length === count) ac.abort();
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
  })();
  const child = spawn(process.execPath, [APPENDER, path, String(count), '200', '7'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  await following;
  assert.equal(got.length, count);
  for (let n = 0; n < count; n++) if (got[n] !== record(n)) assert.equal(got[n], record(n), `record ${n}`);
  // The writer rolled over hundreds of times while we followed.
  assert.ok([...readLog(path, { withPositions: true })].at(-1)!.position.seq > 100);
});

test('follow without fromStart yields only records appended after it starts', async (t) => {
  const path = join(tempDir(t), 'events.bin');
  const logger = new BinaryLogger(path, 64);
  for (let n = 0; n < 10; n++) logger.write(`old${n}`);
  const ac = new AbortController();
  const iterator = follow(path, { signal: ac.signal, pollInterval: 10 });
  const first = iterator.next(); // starts following: the end is taken now
  await new Promise((r) => setImmediate(r));
  for (let n = 0; n < 20; n++) logger.write(`new${n}${'.'.repeat(n)}`);
  const got = [(await first).value];
  while (got.length < 20) got.push((await iterator.next()).value);
  assert.deepEqual(got, Array.from({ length: 20 }, (_, n) => `new${n}${'.'.repeat(n)}`));
  ac.abort();
  await assert.rejects(iterator.next(), { name: 'AbortError' });
  logger.close();
});

test('follow waits for the rest of a torn record and never yields part of one', async (t) => {
  const { appendFileSync } = await import('node:fs');
  const path = join(tempDir(t), 'events.bin');
  appendFileSync(path, Buffer.from([0, 0, 0, 5, 0x68, 0x65]));
  const ac = new AbortController();
  const iterator = follow(path, { signal: ac.signal, fromStart: true, pollInterval: 5 });
  const pending = iterator.next();
  let settled = false;
  void pending.then(() => (settled = true));
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(settled, false, 'no partial record is yielded');
  appendFileSync(path, Buffer.from('llo'));
  assert.deepEqual(await pending, { value: 'hello', done: false });
  ac.abort();
  await assert.rejects(iterator.next(), { name: 'AbortError' });
});

test('follow survives its directory being removed and recreated, and follows the new log from its start by its watcher', async (t) => {
  const dir = join(tempDir(t), 'logs');
  mkdirSync(dir);
  const path = join(dir, 'events.bin');
  {
    using logger = new BinaryLogger(path, 64);
    logger.write('old1');
    logger.write('old2');
  }
  const ac = new AbortController();
  // A poll this long never fires within the test: only the watcher can wake the follower.
  const iterator = follow(path, { signal: ac.signal, fromStart: true, pollInterval: 600_000 });
  const guard = setTimeout(() => ac.abort(), 20_000);
  t.after(() => {
    clearTimeout(guard);
    ac.abort();
  });
  const got: string[] = [];
  for (let i = 0; i < 2; i++) got.push((await iterator.next()).value as string);
  const waiting = iterator.next(); // nothing new: the follower waits
  rmSync(dir, { recursive: true });
  mkdirSync(dir);
  const logger = new BinaryLogger(path, 64);
  t.after(() => logger.close());
  logger.write('new1');
  logger.write('new2');
  got.push((await waiting).value as string);
  got.push((await iterator.next()).value as string);
  // The watcher on the new directory wakes the follower for a later record too.
  const later = iterator.next();
  logger.write('new3');
  got.push((await later).value as string);
  assert.deepEqual(got, ['old1', 'old2', 'new1', 'new2', 'new3']);
  assert.equal(ac.signal.aborted, false, 'woken by the watcher, not by the guard');
  ac.abort();
  await assert.rejects(iterator.next(), { name: 'AbortError' });
});

test('follow() throws ENOENT for a path with no log, and with waitForLog waits for one and yields it from its first record', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'later', 'events.bin');
  assert.throws(() => follow(path), { code: 'ENOENT', path });
  const ac = new AbortController();
  const seen: string[] = [];
  const following = (async () => {
    for await (const payload of follow(path, { waitForLog: true, signal: ac.signal, pollInterval: 20 })) {
      seen.push(payload);
      if (seen.length === 5) ac.abort();
    }
  })();
  // The follower is waiting on a directory that does not exist yet; records
  // written once the log exists, across a rollover, all reach it in order.
  {
    using logger = new BinaryLogger(path, 20);
    for (let n = 0; n < 5; n++) logger.write(`w${n}-${'x'.repeat(8)}`);
  }
  await assert.rejects(following, { name: 'AbortError' });
  assert.deepEqual(seen, Array.from({ length: 5 }, (_, n) => `w${n}-${'x'.repeat(8)}`));
});
