/**
 * Issue 11, item 3: when the owner of a multi-process log dies or stops,
 * one client becomes the owner within a bounded time, recovers the log as
 * an open after a crash does, and the others send again what was not
 * acknowledged. A stopped owner that resumes writes nothing until it is a
 * client (fencing). Also: SIGKILL of a client, the owner's disk full, and
 * readers (follow(), binlog tail -f) seeing every record once.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BinaryLogger, follow, readLog } from '../src/index.js';
import { lockPath } from '../src/lockfile.js';
import { multiprocessRound } from './crash/multiprocess-loop.js';
import { tempDir } from './helpers.js';
import { assertRolloverRule, assertWriterRecords, recordsByWriter, spawnWriter } from './multiprocess-helpers.js';

const CLI = new URL('../src/cli/index.js', import.meta.url).pathname;

function ownerPid(path: string): number {
  return Number(readFileSync(lockPath(path), 'utf8').split(/\s/)[0]);
}

test('SIGKILL of the owner at random moments (4 rounds): acknowledged records survive, in order per process', async () => {
  let kills = 0;
  for (let round = 0; round < 4; round++) kills += await multiprocessRound(1100 + round);
  assert.ok(kills >= 3, `${kills} owners killed`);
});

test('SIGKILL of a client leaves the owner and the other clients writing; its acknowledged records are there', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const options = { maxFileSize: 2000, durability: 'sync' as const, multiProcess: true };
  using owner = new BinaryLogger(path, options);
  const victim = spawnWriter({ path, name: 'v', count: 100_000, options, pauseEvery: 50 });
  const other = spawnWriter({ path, name: 'o', count: 500, options, pauseEvery: 50 });
  await victim.saw('ack 200');
  victim.child.kill('SIGKILL');
  await victim.exited;
  assert.deepEqual(await other.exited, { code: 0, signal: null });
  owner.write('owner:0:after');
  owner.close();
  const seen = recordsByWriter(path);
  assertWriterRecords(seen.get('o'), 'o', 500, false);
  const got = assertWriterRecords(seen.get('v'), 'v', 100_000, false, victim.acked());
  assert.ok(got >= victim.acked() && got <= victim.acked() + 1, `${got} records of the killed client, ${victim.acked()} acknowledged`);
  assert.deepEqual(seen.get('owner'), [0]);
  assertRolloverRule(path, 2000);
});

test('a stopped owner is replaced within about a second, and writes nothing as owner after SIGCONT (fencing)', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const options = { maxFileSize: 1000, durability: 'sync' as const, multiProcess: true };
  const a = spawnWriter({ path, name: 'a', count: 60, options, waitForGo: true });
  assert.equal(await a.ready, ownerPid(path));
  const b = spawnWriter({ path, name: 'b', count: 200, options, waitForGo: true, end: 'hold' });
  await b.ready;
  a.child.kill('SIGSTOP');
  const started = Date.now();
  b.child.stdin!.write('go\n');
  await b.saw('ack 1');
  const waited = Date.now() - started;
  assert.ok(waited >= 900 && waited < 3000, `the first write waited ${waited} ms for the takeover`);
  await b.saw('holding');
  assert.equal(ownerPid(path), b.pid);
  // b rolled over many times: a's old descriptor is a sealed backup now.
  a.child.kill('SIGCONT');
  a.child.stdin!.write('go\n');
  await a.saw('closed');
  b.child.stdin!.end();
  assert.deepEqual(await a.exited, { code: 0, signal: null });
  assert.deepEqual(await b.exited, { code: 0, signal: null });
  const seen = recordsByWriter(path);
  assertWriterRecords(seen.get('b'), 'b', 200, false);
  assertWriterRecords(seen.get('a'), 'a', 60, false);
  // a wrote only after b: every one of its records after b's last.
  const order = [...readLog(path)].map((r) => r[0]);
  assert.equal(order.join('').replace(/b+a+$/, ''), '');
  assertRolloverRule(path, 1000);
  assert.doesNotMatch(b.stderr.join(''), /BINLOG_CURRENT_FILE_CHANGED/);
  assert.doesNotMatch(a.stderr.join(''), /Warning/);
});

test("the owner's disk full reaches the client's write() as ENOSPC; nothing torn, the owner serves on", { skip: process.getuid?.() !== 0 && 'needs root to mount a tmpfs' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'binlog-test-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
  t.after(() => {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  const path = join(dir, 'events.bin');
  const options = { maxFileSize: 64 * 1024, durability: 'sync' as const, multiProcess: true };
  const owner = new BinaryLogger(path, options);
  const client = spawnWriter({ path, name: 'c', count: 200, size: 2000, options });
  assert.deepEqual(await client.exited, { code: 0, signal: null });
  const failed = client.lines.filter((l) => l.startsWith('write-error '));
  assert.ok(failed.length > 50, `${failed.length} writes failed`);
  for (const line of failed) assert.match(line, /^write-error \d+ ENOSPC$/);
  const firstFailure = Number(failed[0]!.split(' ')[1]);
  const seen = recordsByWriter(path).get('c')!;
  // Every acknowledged record is there, whole; no failed one is.
  const failedSet = new Set(failed.map((l) => Number(l.split(' ')[1])));
  assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i).filter((i) => !failedSet.has(i)));
  assert.ok(firstFailure > 50 && firstFailure < 130, `first ENOSPC at record ${firstFailure}`);
  // The owner still serves: a small record fits in what is left.
  owner.write('x');
  owner.close();
});

test('follow() and binlog tail -f see every record of every process exactly once across rollovers', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const options = { maxFileSize: 3000, durability: 'buffered' as const, flushInterval: 5, multiProcess: true };
  using owner = new BinaryLogger(path, options);
  owner.write('owner:0:first');
  owner.flush();
  const tail = spawn(process.execPath, [CLI, 'tail', '-f', '-n', '1', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tailed = '';
  tail.stdout.setEncoding('utf8').on('data', (c: string) => (tailed += c));
  await new Promise<void>((resolve) => {
    const check = (): void => (tailed.includes('owner:0:first') ? resolve() : void setTimeout(check, 10));
    check();
  });
  const ac = new AbortController();
  const followed: string[] = [];
  const total = 1 + 3 * 400;
  const reading = (async () => {
    for await (const record of follow(path, { fromStart: true, signal: ac.signal, pollInterval: 10 })) {
      followed.push(record);
      if (followed.length === total) return;
    }
  })();
  const writers = [0, 1, 2].map((w) => spawnWriter({ path, name: `p${w}`, count: 400, options, ackEvery: 37, pauseEvery: 40 }));
  for (const w of writers) assert.deepEqual(await w.exited, { code: 0, signal: null });
  await reading;
  owner.close();
  assert.deepEqual(followed, [...readLog(path)]);
  await new Promise<void>((resolve) => {
    const check = (): void => (tailed.split('\n').length > total ? resolve() : void setTimeout(check, 10));
    check();
  });
  tail.kill('SIGINT');
  await new Promise((resolve) => tail.on('exit', resolve));
  const lines = tailed.split('\n').filter((l) => l !== '');
  assert.deepEqual(lines, [...readLog(path)]);
  const seen = recordsByWriter(path);
  for (const w of [0, 1, 2]) assertWriterRecords(seen.get(`p${w}`), `p${w}`, 400, false);
  assert.ok(assertRolloverRule(path, 3000).length >= 15);
});
