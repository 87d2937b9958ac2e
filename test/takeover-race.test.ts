/**
 * Issue 11, item 3: the stale seq after a multi-process takeover.
 *
 * Root cause: two processes that judged the same dead owner's lock stale
 * could both "take" it. takeLock() read the lock, found its holder dead,
 * and unlinked the path; a second taker doing the same a moment later
 * unlinked the FIRST taker's fresh lock and created its own. Both became
 * owners, listed the same backups, and the later rollover found "its" next
 * backup name taken (ERR_ROLLOVER_FAILED, EEXIST). The agent even took its
 * fencing stamp by stat()ing the path after recovery, so the first taker
 * adopted the second's lock as its own and was never fenced.
 *
 * These tests force the interleavings with the injectable fs: the second
 * taker runs completely at every file-system call the first one makes.
 * Also: a former owner's rollover and compression are fenced.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { frame, tempDir } from './helpers.js';
import { nodeFs, type FsOps } from '../src/fsops.js';
import { lockPath, releaseLock, takeLock, type HeldLock } from '../src/lockfile.js';
import { breakLock } from '../src/multiprocess/rendezvous.js';
import { compressBackup } from '../src/retention.js';
import { parseOptions } from '../src/writer/options.js';
import { ThreadCommitPath } from '../src/writer/thread-path.js';

/** A holder line no live thread has: pid 2^22 + 1 is above Linux's pid_max default and never alive. */
const DEAD = '4194305 4194305\n';

function tryTake(path: string, fs: FsOps, note: string): HeldLock | string {
  try {
    return takeLock(path, fs, note);
  } catch (err) {
    return String((err as NodeJS.ErrnoException).code);
  }
}

/** An fs whose `at`-th openSync/unlinkSync call first runs `meanwhile()`. */
function interleaved(at: number, meanwhile: () => void): { fs: FsOps; calls: () => number } {
  let calls = 0;
  const hook = (): void => {
    if (calls++ === at) meanwhile();
  };
  const fs: FsOps = {
    ...nodeFs,
    openSync: (path, flags, mode) => (hook(), nodeFs.openSync(path, flags, mode)),
    unlinkSync: (path) => (hook(), nodeFs.unlinkSync(path)),
  };
  return { fs, calls: () => calls };
}

/** A take's outcome, for messages: the holder's note, or the error code. */
function outcome(r: HeldLock | string | undefined): string {
  return typeof r === 'object' ? `holds (${r.content.split('\n')[1]})` : String(r);
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('.events.bin.lock.'));
}

test("two takers of a dead owner's lock: at every step of the first, a second that runs in between leaves exactly one holder", (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  // The first taker alone: how many calls it makes.
  writeFileSync(lockPath(path), DEAD);
  const alone = interleaved(-1, () => undefined);
  releaseLock(takeLock(path, alone.fs, 'alone'), nodeFs);
  const steps = alone.calls();
  for (let at = 0; at < steps; at++) {
    writeFileSync(lockPath(path), DEAD);
    let second: HeldLock | string | undefined;
    const { fs } = interleaved(at, () => (second = tryTake(path, nodeFs, 'second')));
    const first = tryTake(path, fs, 'first');
    const holders = [first, second].filter((r): r is HeldLock => typeof r === 'object');
    assert.equal(holders.length, 1, `step ${at}: first ${outcome(first)}, second ${outcome(second)}`);
    const loser = [first, second].find((r) => typeof r === 'string');
    // The second ran to its end in the middle of the first: one of them lost.
    assert.equal(loser, 'ERR_LOGGER_PATH_IN_USE', `step ${at}`);
    assert.equal(readFileSync(lockPath(path), 'utf8'), holders[0]!.content, `step ${at}: the lock on disk is the holder's`);
    assert.deepEqual(leftovers(dir), [], `step ${at}: no claim file left`);
    releaseLock(holders[0]!, nodeFs);
    assert.equal(existsSync(lockPath(path)), false);
  }
  // open lock, open claim, unlink lock, unlink claim, open lock.
  assert.equal(steps, 5);
});

test("two clients breaking a stopped owner's lock at once: exactly one removes it, never a successor's lock", (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const stopped = `${DEAD}{"token":"t","socket":"s","pid":4194305}\n`;
  writeFileSync(lockPath(path), stopped);
  // The first breaker removes it and takes the lock itself; the second read
  // the stopped owner's content before that and breaks only now.
  assert.equal(breakLock(path, stopped), true);
  const successor = takeLock(path, nodeFs, 'successor');
  assert.equal(breakLock(path, stopped), false);
  assert.equal(readFileSync(lockPath(path), 'utf8'), successor.content);
  releaseLock(successor, nodeFs);
  assert.deepEqual(leftovers(dir), []);
});

test('a claim file left by a taker killed while holding it is removed, and the dead lock is taken over', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(lockPath(path), DEAD);
  const claim = `${lockPath(path)}.${createHash('sha256').update(DEAD).digest('hex').slice(0, 16)}`;
  writeFileSync(claim, '4194306 4194306\n');
  const lock = takeLock(path, nodeFs, 'next');
  assert.equal(readFileSync(lockPath(path), 'utf8'), lock.content);
  assert.deepEqual(leftovers(dir), []);
  releaseLock(lock, nodeFs);
});

test("a claim file of a live taker makes the other taker wait (ERR_LOGGER_PATH_IN_USE), not remove the lock", (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(lockPath(path), DEAD);
  const claim = `${lockPath(path)}.${createHash('sha256').update(DEAD).digest('hex').slice(0, 16)}`;
  writeFileSync(claim, `${process.pid} 0\n`); // this process: alive
  assert.throws(() => takeLock(path, nodeFs, 'next'), { code: 'ERR_LOGGER_PATH_IN_USE' });
  assert.equal(readFileSync(lockPath(path), 'utf8'), DEAD);
});

/** A multi-process owner's commit path, as the agent opens it. */
function ownerPath(path: string, maxFileSize: number, failed: unknown[]): ThreadCommitPath {
  const settings = parseOptions({ maxFileSize });
  return new ThreadCommitPath({
    path,
    settings,
    fs: nodeFs,
    lockNote: '{"token":"x"}',
    fencing: 'own',
    events: { rotated: () => undefined, failed: (err) => failed.push(err) },
  });
}

test('a former owner whose lock a successor replaced seals nothing: its rollover throws ERR_BINLOG_FENCED and leaves no backup', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const failed: unknown[] = [];
  const owner = ownerPath(path, 100, failed);
  const rec = frame('x'.repeat(40));
  owner.commit(rec, rec.length);
  owner.commit(rec, rec.length);
  assert.deepEqual(readdirSync(dir).sort(), ['.events.bin.lock', 'events.bin']);
  // The owner was stopped; a client broke its lock and took over.
  assert.equal(breakLock(path, readFileSync(lockPath(path), 'utf8')), true);
  const successor = takeLock(path, nodeFs, 'successor');
  // Resumed: this commit brings the file to maxFileSize.
  assert.throws(() => owner.commit(rec, rec.length), { code: 'ERR_BINLOG_FENCED' });
  owner.drainEvents();
  assert.deepEqual(failed, [], 'no ERR_ROLLOVER_FAILED: a fenced rollover is not a failure to retry');
  assert.deepEqual(readdirSync(dir).sort(), ['.events.bin.lock', 'events.bin'], 'no backup, no temp file');
  owner.close();
  assert.equal(readFileSync(lockPath(path), 'utf8'), successor.content, "closing the former owner leaves the successor's lock");
  releaseLock(successor, nodeFs);
});

test("the owner's caller thread, attached to its agent's log, is fenced by the agent's lock: the records before the rollover are in, committed says so", (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const failed: unknown[] = [];
  const agent = ownerPath(path, 100, failed);
  const held = agent.lock!;
  const caller = new ThreadCommitPath({
    path,
    settings: parseOptions({ maxFileSize: 100 }),
    fs: nodeFs,
    attach: { state: agent.share().state, channel: 'binary-logger:test-direct' },
    fencing: { path: held.path, stamp: held.stamp },
    events: { rotated: () => undefined, failed: (err) => failed.push(err) },
  });
  const rec = frame('x'.repeat(40));
  caller.commit(rec, rec.length);
  assert.equal(breakLock(path, readFileSync(lockPath(path), 'utf8')), true);
  const successor = takeLock(path, nodeFs, 'successor');
  // Three records: the second brings the file to maxFileSize (44 + 88 = 132 >= 100), so the rollover comes there.
  const two = Buffer.concat([rec, rec, rec]);
  assert.throws(() => caller.commit(two, two.length), { code: 'ERR_BINLOG_FENCED' });
  assert.equal(caller.committed, 2 * rec.length, 'the records written before the fenced rollover');
  assert.equal(readFileSync(path).length, 3 * rec.length);
  assert.deepEqual(readdirSync(dir).sort(), ['.events.bin.lock', 'events.bin'], 'no backup, no temp file');
  caller.close();
  agent.close();
  assert.deepEqual(failed, []);
  releaseLock(successor, nodeFs);
});

test("a former owner's compression renames and removes nothing once it lost the log", async (t) => {
  const dir = tempDir(t);
  const backup = join(dir, 'events.0.bin');
  const bytes = frame('sealed');
  writeFileSync(backup, bytes);
  assert.equal(await compressBackup(backup, () => false), undefined);
  assert.deepEqual(readdirSync(dir), ['events.0.bin']);
  assert.deepEqual(readFileSync(backup), bytes);
  // Still the owner: compressed under a temp name of its own, then renamed.
  assert.equal(await compressBackup(backup, () => true), `${backup}.gz`);
  assert.deepEqual(readdirSync(dir), ['events.0.bin.gz']);
});

test('claim files left by killed takers are removed by the next one that takes the lock; a live holder\'s claim stays', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const lock = lockPath(path);
  writeFileSync(`${lock}.0123456789abcdef`, '4194306 4194306\n'); // dead holder, its lock long gone
  writeFileSync(`${lock}.0123456789abcdef.fedcba9876543210`, '4194307 4194307\n'); // a claim on that claim
  writeFileSync(`${lock}.aaaaaaaaaaaaaaaa`, `${process.pid} 0\n`); // alive: it removes its own
  writeFileSync(`${lock}.backup`, 'not a claim');
  const held = takeLock(path, nodeFs);
  assert.deepEqual(readdirSync(dir).sort(), ['.events.bin.lock', '.events.bin.lock.aaaaaaaaaaaaaaaa', '.events.bin.lock.backup']);
  releaseLock(held, nodeFs);
});
