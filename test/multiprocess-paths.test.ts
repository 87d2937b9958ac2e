/**
 * Issue 11 item 5: the faster routes of a multi-process log keep its
 * guarantees. The owner's own writes commit straight to the files (beside
 * its agent serving clients), also after a takeover; a client's batch that
 * does not fit the shared mailbox goes through postMessage; batches of
 * several clients are committed together. Every record arrives once, in
 * each process's order, the rollover rule holds, and 'rotate' is emitted
 * once per backup in the owner.
 */
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { BinaryLogger, logOwner, readLog } from '../src/index.js';
import { listBackups } from '../src/naming.js';
import { tempDir } from './helpers.js';
import { assertRolloverRule, assertWriterRecords, recordsByWriter, spawnWriter } from './multiprocess-helpers.js';

/** The records test/fixtures/mp-writer.ts writes (importing it would run it). */
function payload(name: string, i: number, size: number): string {
  const head = `${name}:${i}:`;
  return head + '.'.repeat(Math.max(0, size - head.length));
}

const bySeq = (a: string, b: string): number => Number(a.split('.')[1]) - Number(b.split('.')[1]);

test("the owner's direct writes and two clients' batches interleave whole, in order, with one 'rotate' per backup", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const options = { maxFileSize: 3000, multiProcess: true };
  const owner = new BinaryLogger(path, options);
  const rotated: string[] = [];
  owner.on('rotate', (backup) => rotated.push(basename(backup)));
  const clients = ['a', 'b'].map((name) => spawnWriter({ path, name, count: 300, options, waitForGo: true }));
  await Promise.all(clients.map((c) => c.ready));
  for (const c of clients) c.child.stdin!.write('go\n');
  // The owner writes while the clients do: its agent serves them meanwhile.
  for (let i = 0; i < 300; i++) owner.write(payload('o', i, 40));
  const exits = await Promise.all(clients.map((c) => c.exited));
  assert.deepEqual(exits, [{ code: 0, signal: null }, { code: 0, signal: null }], clients.map((c) => c.stderr.join('')).join(''));
  owner.close();
  const seen = recordsByWriter(path);
  for (const name of ['o', 'a', 'b']) assert.equal(assertWriterRecords(seen.get(name), name, 300, false), 300);
  const backups = assertRolloverRule(path, 3000);
  // 44-byte frames: a backup holds ceil(3000 / 44) of them.
  assert.equal(backups.length, Math.floor(900 / Math.ceil(3000 / 44)));
  // Once per backup. The owner's two threads seal backups under one lock but
  // report them from two places, so the events need not come in seq order.
  assert.deepEqual(rotated.sort(bySeq), backups.map((seq) => `events.${seq}.bin`));
});

test('a client that becomes the owner writes directly from then on: its records follow in order, one rotate per backup it sealed', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const options = { maxFileSize: 2000, multiProcess: true };
  const first = spawnWriter({ path, name: 'first', count: 10, options, end: 'hold' });
  await first.saw('holding');
  const logger = new BinaryLogger(path, options);
  const rotated: string[] = [];
  logger.on('rotate', (backup) => rotated.push(basename(backup)));
  for (let i = 0; i < 100; i++) logger.write(payload('me', i, 40));
  assert.equal((await logOwner(path))?.pid, first.pid);
  first.child.stdin!.end();
  assert.deepEqual(await first.exited, { code: 0, signal: null });
  // Our agent takes the lock once it sees the owner's connection end.
  for (let tries = 0; (await logOwner(path))?.pid !== process.pid; tries++) {
    assert.ok(tries < 200, 'no takeover');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const before = listBackups(path).map((b) => b.seq);
  for (let i = 100; i < 400; i++) logger.write(payload('me', i, 40));
  logger.close();
  const seen = recordsByWriter(path);
  assert.equal(assertWriterRecords(seen.get('first'), 'first', 10, false), 10);
  assert.equal(assertWriterRecords(seen.get('me'), 'me', 400, false), 400);
  const backups = assertRolloverRule(path, 2000);
  const sealedByUs = backups.filter((seq) => !before.includes(seq));
  assert.ok(sealedByUs.length >= 5, `${sealedByUs.length} backups after the takeover`);
  assert.deepEqual(rotated.sort(bySeq), sealedByUs.map((seq) => `events.${seq}.bin`));
});

for (const durability of ['sync', 'buffered'] as const) {
  test(`'${durability}': a client's records too large for its mailbox go by postMessage, whole and in order with its small ones`, async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const options = { maxFileSize: 1 << 20, multiProcess: true, durability, bufferSize: 64 * 1024 };
    using owner = new BinaryLogger(path, options);
    // 100 KB records do not fit a 64 KiB staging buffer nor the mailbox sized for it.
    const big = spawnWriter({ path, name: 'big', count: 12, size: 100_000, options, ackEvery: 3 });
    const small = spawnWriter({ path, name: 'small', count: 500, options });
    assert.deepEqual(await Promise.all([big.exited, small.exited]), [
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
    owner.close();
    const seen = recordsByWriter(path);
    assert.equal(assertWriterRecords(seen.get('big'), 'big', 12, false), 12);
    assert.equal(assertWriterRecords(seen.get('small'), 'small', 500, false), 500);
    const lengths = new Map<string, Set<number>>();
    for (const record of readLog(path)) {
      const name = record.split(':')[0]!;
      lengths.set(name, (lengths.get(name) ?? new Set()).add(record.length));
    }
    assert.deepEqual([...lengths.get('big')!], [100_000]);
    assert.deepEqual([...lengths.get('small')!], [40]);
    assertRolloverRule(path, 1 << 20);
  });
}
