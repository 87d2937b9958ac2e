/**
 * Issue 11, item 5: a client's 'sync' batches go to the owner on a FIFO
 * pair, written and awaited by the caller's own thread (fifo-caller.ts).
 * Records arrive byte-exact and in order; an owner killed or stopped while
 * a client sleeps in read(2) on its reply FIFO is replaced, and the client's
 * write() returns; without mkfifo the mailbox serves; the owner refuses
 * paths that are not FIFOs; nothing is left in the temp directory.
 */
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { BinaryLogger, readLog } from '../src/index.js';
import { lockPath } from '../src/lockfile.js';
import { FrameReader, FrameType, jsonFrame, parseJson, type Frame } from '../src/multiprocess/protocol.js';
import { readLockView } from '../src/multiprocess/rendezvous.js';
import { fileShape } from '../src/multiprocess/shape.js';
import { tempDir } from './helpers.js';
import { assertRolloverRule, assertWriterRecords, recordsByWriter, spawnWriter, type Writer } from './multiprocess-helpers.js';

const SYNC = { maxFileSize: 4000, durability: 'sync' as const, multiProcess: true };

/** A client's environment: agent and caller report the FIFO pair on stderr; its temp dir is `tmp`. */
function debugEnv(tmp: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, BINLOG_DEBUG_AGENT: '1', TMPDIR: tmp, ...extra };
}

/** What test/fixtures/mp-writer.ts writes as record `i` (importing it would run it). */
function payload(name: string, i: number, size: number): string {
  const head = `${name}:${i}:`;
  return head + '.'.repeat(Math.max(0, size - head.length));
}

function ownerPid(path: string): number {
  return Number(readFileSync(lockPath(path), 'utf8').split(/\s/)[0]);
}

/** Resolves once `writer` printed `text` on stderr. */
async function stderrSays(writer: Writer, text: string): Promise<void> {
  while (!writer.stderr.join('').includes(text)) {
    await new Promise<void>((resolve, reject) => {
      writer.child.stderr!.once('data', () => setImmediate(resolve));
      void writer.exited.then(() => reject(new Error(`exited without "${text}": ${writer.stderr.join('')}`)));
    });
  }
}

/** Batches the writer's caller said were acknowledged on its FIFO pairs (at close). */
function fifoAcks(writer: Writer): number {
  return [...writer.stderr.join('').matchAll(/fifo closed: (\d+) batches/g)].reduce((n, m) => n + Number(m[1]), 0);
}

/** True while the writer's main thread sleeps in read(2) on its reply FIFO (/proc/<pid>/syscall). */
function blockedOnReplyFifo(pid: number): boolean {
  const readNr = process.arch === 'arm64' ? 63 : 0;
  let fields: string[];
  try {
    fields = readFileSync(`/proc/${pid}/syscall`, 'utf8').trim().split(' ');
  } catch {
    return false;
  }
  if (Number(fields[0]) !== readNr) return false;
  try {
    return /binlog-fifo-[^/]+\/reply/.test(readlinkSync(`/proc/${pid}/fd/${Number(fields[1])}`));
  } catch {
    return false;
  }
}

async function until(what: string, ready: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

test("clients' records through the FIFO pair arrive byte-exact and in each process's order; larger ones take the mailbox between them", async (t) => {
  const dir = tempDir(t);
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const path = join(dir, 'events.bin');
  using owner = new BinaryLogger(path, SYNC);
  owner.write('owner:0');
  // 3000-byte records fit one FIFO frame (4096 bytes), 5000-byte ones do not.
  const specs = [
    { name: 'a', count: 400, size: 40 },
    { name: 'b', count: 200, size: 3000 },
    { name: 'c', count: 60, size: 5000 },
  ];
  const writers = specs.map((s) => spawnWriter({ path, ...s, options: SYNC }, { env: debugEnv(tmp) }));
  for (const w of writers) assert.deepEqual(await w.exited, { code: 0, signal: null });
  owner.close();
  const records = [...readLog(path)];
  for (const { name, count, size } of specs) {
    const mine = records.filter((r) => r.startsWith(`${name}:`));
    assert.deepEqual(mine, Array.from({ length: count }, (_, i) => payload(name, i, size)), name);
  }
  assert.equal(records.length, 1 + 400 + 200 + 60);
  // The pair serves once it is up (a few first records may go through the agent).
  assert.ok(fifoAcks(writers[0]!) >= 300, `a: ${fifoAcks(writers[0]!)} on the FIFO pair`);
  assert.ok(fifoAcks(writers[1]!) >= 100, `b: ${fifoAcks(writers[1]!)} on the FIFO pair`);
  assert.equal(fifoAcks(writers[2]!), 0);
  assertRolloverRule(path, SYNC.maxFileSize);
  assert.deepEqual(readdirSync(tmp), [], 'nothing left in the temp directory');
});

test("'fsync' clients use the FIFO pair too: the owner acknowledges after fdatasync, records in order", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const options = { ...SYNC, durability: 'fsync' as const };
  using owner = new BinaryLogger(path, options);
  const c = spawnWriter({ path, name: 'c', count: 80, options }, { env: debugEnv(dir) });
  assert.deepEqual(await c.exited, { code: 0, signal: null });
  owner.close();
  assert.equal(assertWriterRecords(recordsByWriter(path).get('c'), 'c', 80, false), 80);
  assert.ok(fifoAcks(c) >= 40, `${fifoAcks(c)} on the FIFO pair`);
});

test("the owner SIGKILLed while a client sleeps in read(2) on its reply FIFO: the client's write() returns after the takeover, its record is in", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const a = spawnWriter({ path, name: 'a', count: 1, options: SYNC, end: 'hold' });
  assert.equal(await a.ready, ownerPid(path));
  const b = spawnWriter({ path, name: 'b', count: 400, options: SYNC, pauseEvery: 1, end: 'hold' }, { env: debugEnv(dir) });
  await stderrSays(b, 'fifo on');
  await b.saw('ack 20');
  // Stopped, the owner answers nothing: b's next write() waits in read(2).
  a.child.kill('SIGSTOP');
  await until('b sleeps on its reply FIFO', () => blockedOnReplyFifo(b.pid));
  const acked = b.acked();
  a.child.kill('SIGKILL');
  await b.saw(`ack ${acked + 1}`);
  await b.saw('holding');
  assert.equal(ownerPid(path), b.pid);
  b.child.stdin!.end();
  assert.deepEqual(await b.exited, { code: 0, signal: null });
  const seen = recordsByWriter(path);
  // At least once: the batch in flight may be in twice if a wrote it before the stop.
  assertWriterRecords(seen.get('b'), 'b', 400, true);
  assert.ok(seen.get('b')!.length <= 401);
  assert.deepEqual(seen.get('a'), [0]);
});

test('the owner SIGSTOPped while a client sleeps on its reply FIFO: replaced within the bound; after SIGCONT it writes nothing as owner', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const options = { ...SYNC, maxFileSize: 1000 };
  const a = spawnWriter({ path, name: 'a', count: 30, options, waitForGo: true });
  assert.equal(await a.ready, ownerPid(path));
  const b = spawnWriter({ path, name: 'b', count: 300, options, pauseEvery: 1, end: 'hold' }, { env: debugEnv(dir) });
  await stderrSays(b, 'fifo on');
  await b.saw('ack 20');
  a.child.kill('SIGSTOP');
  const stopped = Date.now();
  await until('b sleeps on its reply FIFO', () => blockedOnReplyFifo(b.pid));
  const acked = b.acked();
  await b.saw(`ack ${acked + 1}`);
  const waited = Date.now() - stopped;
  // STALL_MS (1000) plus the stall check's interval (250), with room for a loaded machine.
  assert.ok(waited >= 900 && waited < 3000, `the write waited ${waited} ms for the takeover`);
  await b.saw('holding');
  assert.equal(ownerPid(path), b.pid);
  a.child.kill('SIGCONT');
  a.child.stdin!.write('go\n');
  await a.saw('closed');
  b.child.stdin!.end();
  assert.deepEqual(await a.exited, { code: 0, signal: null });
  assert.deepEqual(await b.exited, { code: 0, signal: null });
  // b's records in file order: increasing, but for at most one batch in
  // flight at the stop written twice in a row (at least once). A resumed
  // a writing b's stale batch would put a repeat after b's last record.
  const bs = recordsByWriter(path).get('b')!;
  assertWriterRecords(bs, 'b', 300, true);
  const repeats = bs.filter((v, i) => i > 0 && v <= bs[i - 1]!);
  assert.ok(repeats.length <= 1, `repeats ${repeats.join()}`);
  if (repeats.length === 1) assert.equal(bs[bs.indexOf(repeats[0]!) + 1], repeats[0]);
  assertWriterRecords(recordsByWriter(path).get('a'), 'a', 30, false);
  // a wrote only after b's takeover, as a client: every record of a after b's last.
  assert.equal([...readLog(path)].map((r) => r[0]).join('').replace(/b+a+$/, ''), '');
  assertRolloverRule(path, options.maxFileSize);
  assert.doesNotMatch(b.stderr.join(''), /Warning/);
  assert.doesNotMatch(a.stderr.join(''), /Warning/);
});

test('without mkfifo a client keeps the mailbox: every record in, in order, and no FIFO pair', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  using owner = new BinaryLogger(path, SYNC);
  const c = spawnWriter({ path, name: 'c', count: 300, options: SYNC }, { env: debugEnv(dir, { BINLOG_MKFIFO: join(dir, 'no-such-mkfifo') }) });
  assert.deepEqual(await c.exited, { code: 0, signal: null });
  owner.close();
  assert.match(c.stderr.join(''), /no FIFO pair: .*ENOENT/);
  assert.doesNotMatch(c.stderr.join(''), /fifo on/);
  assert.equal(assertWriterRecords(recordsByWriter(path).get('c'), 'c', 300, false), 300);
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('binlog-fifo-')), []);
});

/** HELLO with the token, then a FIFO frame offering `paths`; resolves with the owner's answer. */
function offer(socketName: string, token: string, paths: { request: string; reply: string }): Promise<Record<string, unknown> | undefined> {
  const shape = fileShape({ maxFileSize: SYNC.maxFileSize, compress: false, durability: 'sync' });
  return new Promise((resolve) => {
    const reader = new FrameReader();
    const socket = connect(socketName, () => socket.write(jsonFrame(FrameType.HELLO, { token, pid: process.pid, options: shape })));
    socket.on('data', (data: Buffer) => {
      for (const f of reader.push(data) as Frame[]) {
        if (f.type === FrameType.WELCOME) socket.write(jsonFrame(FrameType.FIFO, paths));
        else if (f.type === FrameType.FIFO) {
          resolve(parseJson(f));
          socket.destroy();
        }
      }
    });
    socket.on('close', () => resolve(undefined));
    socket.on('error', () => undefined);
  });
}

test('the owner refuses FIFO paths that are not FIFOs of its user (a file, a symlink, another uid) and writes nothing there', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  using owner = new BinaryLogger(path, SYNC);
  owner.write('before');
  const note = readLockView(path)!.note!;
  const file = join(dir, 'plain');
  writeFileSync(file, 'untouched');
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', ['-m', '600', fifo]);
  const link = join(dir, 'link');
  symlinkSync(fifo, link);
  const cases = [
    { name: 'regular files', paths: { request: file, reply: file + '2' } },
    { name: 'a regular file as the reply', paths: { request: fifo, reply: file } },
    { name: 'a symlink to a FIFO', paths: { request: link, reply: link } },
    { name: 'relative paths', paths: { request: 'fifo', reply: 'fifo2' } },
  ];
  if (process.getuid?.() === 0) {
    const theirs = join(dir, 'theirs');
    execFileSync('mkfifo', ['-m', '666', theirs]);
    chownSync(theirs, 1234, 1234);
    cases.push({ name: "another user's FIFO", paths: { request: theirs, reply: theirs } });
  }
  const before = statSync(file);
  for (const { name, paths } of cases) {
    const answer = await offer(note.socket, note.token, paths);
    assert.equal(answer?.ok, false, name);
    assert.equal(typeof answer?.reason, 'string', name);
  }
  assert.equal(readFileSync(file, 'utf8'), 'untouched');
  assert.equal(statSync(file).mtimeMs, before.mtimeMs);
  // Refused, the names stay where they were (an accepted pair is unlinked).
  assert.ok(statSync(fifo).isFIFO());
  owner.write('after');
  assert.deepEqual([...readLog(path)], ['before', 'after']);
});

test('a client SIGKILLed while on its FIFO pair leaves nothing in the temp directory; the owner serves on', async (t) => {
  const dir = tempDir(t);
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const path = join(dir, 'events.bin');
  using owner = new BinaryLogger(path, SYNC);
  const victim = spawnWriter({ path, name: 'v', count: 100_000, options: SYNC, pauseEvery: 20 }, { env: debugEnv(tmp) });
  await stderrSays(victim, 'fifo on');
  await victim.saw('ack 50');
  victim.child.kill('SIGKILL');
  await victim.exited;
  assert.deepEqual(readdirSync(tmp), []);
  const other = spawnWriter({ path, name: 'o', count: 100, options: SYNC }, { env: debugEnv(tmp) });
  assert.deepEqual(await other.exited, { code: 0, signal: null });
  owner.close();
  assert.equal(assertWriterRecords(recordsByWriter(path).get('o'), 'o', 100, false), 100);
  assert.ok(fifoAcks(other) > 0, 'the next client used a FIFO pair');
  assert.deepEqual(readdirSync(tmp), []);
});
