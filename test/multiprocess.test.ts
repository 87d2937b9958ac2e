/**
 * Issue 11: several processes, one log. Real processes (node:cluster
 * workers, independent processes) open one log with multiProcess; every
 * record arrives once, in each process's order, and the files follow the
 * rollover rule. Options that differ, a log held without multiProcess, exit
 * flushes in clients, and strangers on the socket.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { test } from 'node:test';
import { BinaryLogger, logOwner, readLog } from '../src/index.js';
import { lockPath } from '../src/lockfile.js';
import { readLockView } from '../src/multiprocess/rendezvous.js';
import { FrameType, jsonFrame } from '../src/multiprocess/protocol.js';
import { fileShape } from '../src/multiprocess/shape.js';
import { frame, tempDir } from './helpers.js';
import { assertRolloverRule, assertWriterRecords, recordsByWriter, spawnWriter } from './multiprocess-helpers.js';
import type { Durability } from '../src/index.js';

const CLUSTER = new URL('./fixtures/mp-cluster.js', import.meta.url).pathname;

for (const durability of ['sync', 'buffered'] as const satisfies readonly Durability[]) {
  test(`8 independent processes in '${durability}' mode: every record once, in each process's order, rollover rule kept`, async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const count = durability === 'sync' ? 400 : 5000;
    const maxFileSize = 4000;
    const writers = Array.from({ length: 8 }, (_, w) =>
      spawnWriter({ path, name: `p${w}`, count, options: { maxFileSize, durability, multiProcess: true }, ackEvery: 250 }),
    );
    const exits = await Promise.all(writers.map((w) => w.exited));
    assert.deepEqual(exits, writers.map(() => ({ code: 0, signal: null })), writers.map((w) => w.stderr.join('')).join(''));
    const seen = recordsByWriter(path);
    assert.equal(seen.size, 8);
    for (let w = 0; w < 8; w++) assert.equal(assertWriterRecords(seen.get(`p${w}`), `p${w}`, count, false), count);
    assert.equal(seen.get('p0')!.length, count);
    const backups = assertRolloverRule(path, maxFileSize);
    assert.ok(backups.length >= 8 * count * 44 / maxFileSize - 8, `${backups.length} backups`);
    assert.deepEqual(backups, backups.map((_, i) => i));
    assert.ok(!readdirSync(dir).includes('.events.bin.lock'), 'the last process released the lock');
  });
}

test('node:cluster with 4 workers, rollover and retention: the newest files hold whole records in each worker order', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const maxFileSize = 2000;
  const count = 2000;
  const primary = spawn(
    process.execPath,
    [CLUSTER, JSON.stringify({ workers: 4, config: { path, name: 'w', count, options: { maxFileSize, maxFiles: 3, durability: 'buffered', multiProcess: true }, ackEvery: 100 } })],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  primary.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  let err = '';
  primary.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const code = await new Promise((resolve) => primary.on('exit', resolve));
  assert.equal(code, 0, err);
  assert.match(out, /^done 0 0 0 0$/m);
  assert.equal(err, '');
  // Retention kept the newest 3 backups; numbering went on without a gap.
  const backups = assertRolloverRule(path, maxFileSize);
  assert.equal(backups.length, 3);
  const total = 4 * count * 44;
  assert.ok(backups[2]! >= Math.floor(total / (maxFileSize + 44)) - 1, `last seq ${backups[2]}`);
  assert.deepEqual(backups, [backups[0]!, backups[0]! + 1, backups[0]! + 2]);
  const seen = recordsByWriter(path);
  for (const [name, list] of seen) {
    assert.match(name, /^w[0-3]$/);
    // Only the tail survives retention: whatever is there is in order, once.
    const tail = list[0]!;
    assert.deepEqual(list, list.map((_, i) => tail + i), `${name} in order without gaps or repeats`);
  }
  assert.ok(seen.size >= 1);
  // The last worker wrote its last record: the current file ends the log.
  const lastOfEach = [...seen.values()].map((l) => l[l.length - 1]);
  assert.ok(lastOfEach.includes(count - 1));
});

test('a process whose file-shaping options differ is refused at open with ERR_LOGGER_OPTIONS_MISMATCH', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  using owner = new BinaryLogger(path, { maxFileSize: 1000, maxFiles: 5, multiProcess: true });
  owner.write('from the owner');
  const other = spawnWriter({ path, name: 'x', count: 3, options: { maxFileSize: 2000, maxFiles: 5, multiProcess: true } });
  await assert.rejects(other.ready, /^Error: open-error ERR_LOGGER_OPTIONS_MISMATCH .*"maxFileSize" is 2000 here but 1000 in the owner/);
  assert.equal((await other.exited).code, 3);
  const fsyncOne = spawnWriter({ path, name: 'y', count: 3, options: { maxFileSize: 1000, maxFiles: 5, durability: 'fsync', multiProcess: true } });
  await assert.rejects(fsyncOne.ready, /ERR_LOGGER_OPTIONS_MISMATCH .*"durability \(fsync or not\)" is true here but false/);
  // 'buffered' and 'sync' agree: neither syncs.
  const buffered = spawnWriter({ path, name: 'z', count: 3, options: { maxFileSize: 1000, maxFiles: 5, durability: 'buffered', multiProcess: true } });
  assert.deepEqual(await buffered.exited, { code: 0, signal: null });
  owner.close();
  assert.deepEqual([...readLog(path)], ['from the owner', 'z:0:' + '.'.repeat(36), 'z:1:' + '.'.repeat(36), 'z:2:' + '.'.repeat(36)]);
});

test('without multiProcess a second process gets ERR_LOGGER_PATH_IN_USE naming the option, and the other way round', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  {
    using owner = new BinaryLogger(path, { maxFileSize: 1000, multiProcess: true });
    const plain = spawnWriter({ path, name: 'x', count: 1, options: { maxFileSize: 1000 } });
    await assert.rejects(plain.ready, /^Error: open-error ERR_LOGGER_PATH_IN_USE .*\{ multiProcess: true \}/);
    owner.write('a');
  }
  {
    using single = new BinaryLogger(path, { maxFileSize: 1000 });
    const shared = spawnWriter({ path, name: 'y', count: 1, options: { maxFileSize: 1000, multiProcess: true } });
    await assert.rejects(shared.ready, /^Error: open-error ERR_LOGGER_PATH_IN_USE .*without multiProcess/);
    single.write('b');
  }
  assert.deepEqual([...readLog(path)], ['a', 'b']);
});

for (const end of ['exit', 'throw', 'sigterm'] as const) {
  test(`a buffered client's records are flushed when it ends by ${end}`, async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    using owner = new BinaryLogger(path, { maxFileSize: 1 << 20, durability: 'buffered', multiProcess: true });
    const client = spawnWriter({ path, name: 'c', count: 150, ackEvery: 100, end, options: { maxFileSize: 1 << 20, durability: 'buffered', flushInterval: 0, multiProcess: true } });
    const exit = await client.exited;
    assert.deepEqual(exit, end === 'sigterm' ? { code: null, signal: 'SIGTERM' } : { code: end === 'throw' ? 1 : 0, signal: null });
    owner.flush();
    const seen = recordsByWriter(path);
    assert.equal(assertWriterRecords(seen.get('c'), 'c', 150, false), 150);
  });
}

test('the owner lock file is 0600 and holds a token; a connection without it writes nothing and the owner serves on', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  using owner = new BinaryLogger(path, { maxFileSize: 1000, multiProcess: true });
  owner.write('before');
  assert.equal(statSync(lockPath(path)).mode & 0o777, 0o600);
  const view = readLockView(path)!;
  assert.equal(view.pid, process.pid);
  assert.match(view.note!.token, /^[0-9a-f]{64}$/);
  const shape = fileShape({ maxFileSize: 1000, compress: false, durability: 'sync' });
  const records = frame('intruder');
  const batch = Buffer.concat([Buffer.from([0, 0, 0, 5 + records.length, 3, 0, 0, 0, 1]), records]);
  const attempts: Array<{ name: string; bytes: Buffer }> = [
    { name: 'no FrameType.HELLO, a batch first', bytes: batch },
    { name: 'a wrong token', bytes: Buffer.concat([jsonFrame(FrameType.HELLO, { token: 'f'.repeat(64), pid: 1, options: shape }), batch]) },
    { name: 'garbage', bytes: Buffer.from('GET / HTTP/1.1\r\n\r\n') },
    { name: 'an oversized frame', bytes: Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]) },
    {
      name: 'a torn batch after a good HELLO',
      bytes: Buffer.concat([
        jsonFrame(FrameType.HELLO, { token: view.note!.token, pid: 1, options: shape }),
        Buffer.from([0, 0, 0, 5 + 6, 3, 0, 0, 0, 1, 0, 0, 0, 9, 0x61, 0x62]),
      ]),
    },
  ];
  for (const { name, bytes } of attempts) {
    const closed = await new Promise<string>((resolve) => {
      const socket = connect(view.note!.socket, () => socket.write(bytes));
      let got = '';
      socket.on('data', (d) => (got += d.toString('latin1')));
      socket.on('close', () => resolve(got));
      socket.on('error', () => undefined);
    });
    assert.ok(!closed.includes('\u0004'), `${name}: no ACK`);
    assert.deepEqual([...readLog(path)], ['before'], name);
  }
  owner.write('after');
  const client = spawnWriter({ path, name: 'ok', count: 2, options: { maxFileSize: 1000, multiProcess: true } });
  assert.equal((await client.exited).code, 0);
  assert.deepEqual([...readLog(path)].slice(0, 2), ['before', 'after']);
  assert.equal([...readLog(path)].length, 4);
});

test('a process of another user cannot read the token and writes nothing', { skip: process.getuid?.() !== 0 && 'needs root to drop privileges' }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const { chmodSync } = await import('node:fs');
  chmodSync(dir, 0o777); // the other user may enter the directory, not read the lock
  using owner = new BinaryLogger(path, { maxFileSize: 1000, multiProcess: true });
  owner.write('mine');
  const stranger = spawnWriter({ path, name: 's', count: 1, options: { maxFileSize: 1000, multiProcess: true } }, { uid: 65534, gid: 65534 });
  await assert.rejects(stranger.ready, /^Error: open-error EACCES .*\.events\.bin\.lock/);
  assert.deepEqual([...readLog(path)], ['mine']);
  assert.equal(readFileSync(lockPath(path), 'utf8').split('\n').length, 3);
});

test('logOwner() names the owner process and counts its connected clients', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  assert.equal(await logOwner(path), undefined);
  const options = { maxFileSize: 1000, multiProcess: true };
  using owner = new BinaryLogger(path, options);
  const a = spawnWriter({ path, name: 'a', count: 1, options, end: 'hold' });
  const b = spawnWriter({ path, name: 'b', count: 1, options, end: 'hold' });
  await a.saw('holding');
  await b.saw('holding');
  const info = await logOwner(path);
  assert.deepEqual({ ...info, holder: undefined }, { pid: process.pid, holder: undefined, multiProcess: true, clients: 2 });
  assert.match(info!.holder, new RegExp(`^process ${process.pid}, thread \\d+$`));
  a.child.stdin!.end();
  await a.exited;
  // The owner hears of the closed connection on its own event loop: ask until it has.
  let clients = (await logOwner(path))!.clients;
  for (let tries = 0; clients !== 1 && tries < 100; tries++) clients = (await logOwner(path))!.clients;
  assert.equal(clients, 1);
  b.child.stdin!.end();
  await b.exited;
  owner.close();
  assert.equal(await logOwner(path), undefined);
  using single = new BinaryLogger(path, 1000);
  assert.deepEqual({ ...(await logOwner(path)), holder: undefined }, { pid: process.pid, holder: undefined, multiProcess: false, clients: undefined });
});

test('worker threads of a multi-process log still share() and attach(): each thread is one more client', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  using logger = new BinaryLogger(path, { maxFileSize: 2000, multiProcess: true });
  const acked = new SharedArrayBuffer(8);
  const worker = new Worker(new URL('./fixtures/thread-writer.js', import.meta.url), {
    workerData: { handle: logger.share(), writer: 't', index: 0, count: 300, maxLen: 40, seed: 7, acked },
  });
  const other = spawnWriter({ path, name: 'p', count: 300, options: { maxFileSize: 2000, multiProcess: true } });
  for (let i = 0; i < 300; i++) logger.write(`m:${i}:`);
  assert.equal(await new Promise((resolve) => worker.on('exit', resolve)), 0);
  assert.equal((await other.exited).code, 0);
  logger.close();
  const seen = recordsByWriter(path);
  for (const name of ['m', 't', 'p']) assert.equal(assertWriterRecords(seen.get(name), name, 300, false), 300);
  assertRolloverRule(path, 2000);
});
