/**
 * Issue 5, item 2: faults, each with a defined outcome asserted exactly.
 *
 * - Disk full (a 1 MiB tmpfs, as root): ENOSPC naming the path, no partial
 *   record, the acknowledged records readable, writes working again once
 *   space is freed; buffered records stay buffered across a failed flush.
 * - Rollover failing (link, rename, the new file's creation; a file planted
 *   at the backup name; a directory where nothing can be created): logging
 *   goes on in the current file, one ERR_ROLLOVER_FAILED error per run of
 *   failures, a retry at the first write 1000 ms later, nothing overwritten,
 *   truncated or lost.
 * - The current file deleted, truncated (copytruncate) or replaced (create)
 *   by another program: noticed at the first write 1000 ms later, with a
 *   BINLOG_CURRENT_FILE_CHANGED warning, and appended to at the path.
 * - One logger per log: a second one in this thread, another thread or
 *   another process is refused with ERR_LOGGER_PATH_IN_USE; a lock left by a
 *   killed process is taken over, even when its pid now belongs to a new
 *   process.
 *
 * Time is Date.now() mocked (t.mock.timers, apis ['Date']): the retry and
 * the current-file check are both due 1000 ms after the event.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { BinaryLogger, readLog, type Durability } from '../src/index.js';
import { nodeFs, type FsOps } from '../src/fsops.js';
import { frame, listFiles, tempDir, captureWarnings, type Warning } from './helpers.js';

const LOCK_CHILD = new URL('./fixtures/lock-child.js', import.meta.url).pathname;
const LOCK_NAME = '.events.bin.lock';
const RETRY_MS = 1000;
const CHECK_MS = 1000;


/** Files in `dir` but the lock, as name -> bytes. */
function filesOf(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const { name } of listFiles(dir)) if (name !== LOCK_NAME) out[name] = readFileSync(join(dir, name));
  return out;
}

/** Date.now() under the test's control, from a fixed moment. */
function mockDate(t: TestContext): void {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
}

/**
 * FsOps whose `method` throws an injected OS error (with `code`) on the
 * calls `when` accepts, `times` times (more with failMore()).
 */
function failingFs(
  method: keyof FsOps,
  times: number,
  code = 'EIO',
  when: (...args: unknown[]) => boolean = () => true,
): { fs: FsOps; calls: () => number; failMore(n: number): void } {
  let calls = 0;
  let left = times;
  const original = nodeFs[method] as (...args: unknown[]) => unknown;
  const fs: FsOps = {
    ...nodeFs,
    [method]: (...args: unknown[]) => {
      if (!when(...args)) return original(...args);
      calls++;
      if (left > 0) {
        left--;
        throw Object.assign(new Error(`${code}: injected failure, ${method} '${String(args[0])}'`), {
          code,
          syscall: method.replace(/Sync$/, ''),
          path: String(args[0]),
        });
      }
      return original(...args);
    },
  };
  return { fs, calls: () => calls, failMore: (n) => (left += n) };
}

/** A 50-character record: 54 bytes on disk, two of them reach a maxFileSize of 100. */
function fifty(i: number): string {
  return `record ${i} `.padEnd(50, '.');
}

function range(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => fifty(from + i));
}

/** Errors and rotations a logger emits. */
type SeenError = Error & { code?: string; cause?: { code?: string } };

function watch(logger: BinaryLogger): { errors: SeenError[]; rotations: string[] } {
  const seen = { errors: [] as SeenError[], rotations: [] as string[] };
  logger.on('error', (err) => seen.errors.push(err as SeenError));
  logger.on('rotate', (backup: string) => seen.rotations.push(backup));
  return seen;
}

// ------------------------------------------------------------- disk full

/** A tmpfs of `size` mounted on a fresh dir, unmounted after the test; undefined (test skipped) if not possible. */
function mountTmpfs(t: TestContext, size: string): string | undefined {
  if (process.getuid?.() !== 0) {
    t.skip('mounting a tmpfs needs root');
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'binlog-full-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    t.skip(`cannot mount a tmpfs: ${mounted.stderr || mounted.error}`);
    return undefined;
  }
  t.after(() => {
    if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A 1000-character record: 1004 bytes on disk. */
function kilo(i: number): string {
  return `record ${i} `.padEnd(1000, '.');
}

const KILO = 1004;

/** FsOps counting writes the OS took only part of. */
function shortWriteCounter(): { fs: FsOps; short: () => number } {
  let short = 0;
  const fs: FsOps = {
    ...nodeFs,
    writeSync(fd, buf, offset, length) {
      const n = nodeFs.writeSync(fd, buf, offset, length);
      if (n < length) short++;
      return n;
    },
  };
  return { fs, short: () => short };
}

describe('disk full (a 1 MiB tmpfs)', () => {
  for (const maxFileSize of [1 << 20, 50_000]) {
    test(`sync, maxFileSize ${maxFileSize}: writes fail with ENOSPC naming the path, leave no byte of a partial record, and succeed again once space is freed`, (t) => {
      const dir = mountTmpfs(t, '1m');
      if (!dir) return;
      const path = join(dir, 'log', 'events.bin');
      const filler = join(dir, 'filler');
      writeFileSync(filler, Buffer.alloc(128 * 1024, 1));
      const { fs, short } = shortWriteCounter();
      const logger = new BinaryLogger(path, { maxFileSize, durability: 'sync', fs });
      const { errors } = watch(logger);
      let acked = 0;
      let failure: (Error & { code?: string; path?: string }) | undefined;
      while (failure === undefined) {
        try {
          logger.write(kilo(acked));
          acked++;
        } catch (err) {
          failure = err as Error & { code?: string; path?: string };
        }
      }
      assert.equal(failure.code, 'ENOSPC');
      assert.equal(failure.path, path);
      assert.match(failure.message, /ENOSPC/);
      assert.ok(failure.message.includes(path), failure.message);
      assert.ok(acked > 700, `${acked} records before the disk filled`);
      t.diagnostic(`${acked} records fit; ${short()} write(2) calls were cut short by the full disk`);

      const logBytes = (): number =>
        Object.values(filesOf(join(dir, 'log'))).reduce((sum, b) => sum + b.length, 0);
      assert.equal(logBytes(), acked * KILO, 'the files hold exactly the acknowledged records');
      assert.deepEqual([...readLog(path)], Array.from({ length: acked }, (_, i) => kilo(i)));
      // Still full: the next write fails the same way and changes nothing.
      assert.throws(() => logger.write(kilo(acked)), { code: 'ENOSPC', path });
      assert.equal(logBytes(), acked * KILO);

      unlinkSync(filler);
      for (let i = 0; i < 20; i++) logger.write(kilo(acked + i));
      logger.close();
      assert.deepEqual([...readLog(path)], Array.from({ length: acked + 20 }, (_, i) => kilo(i)));
      assert.deepEqual(errors, [], 'no error event: the failures were thrown to the writer');
    });
  }

  test('buffered: a flush that fails with ENOSPC keeps its records buffered and writes none of them; a write that needs the full buffer written fails and is not taken; once space is freed a flush writes them all', (t) => {
    const dir = mountTmpfs(t, '1m');
    if (!dir) return;
    const path = join(dir, 'log', 'events.bin');
    const filler = join(dir, 'filler');
    writeFileSync(filler, Buffer.alloc(128 * 1024, 1));
    const logger = new BinaryLogger(path, { maxFileSize: 1 << 20, durability: 'buffered', bufferSize: 64 * 1024, flushInterval: 0 });
    // Fill the disk ten acknowledged records at a time.
    let acked = 0;
    let written = 0;
    let failure: (Error & { code?: string; path?: string }) | undefined;
    while (failure === undefined) {
      for (let i = 0; i < 10; i++) logger.write(kilo(written++));
      try {
        logger.flush();
        acked = written;
      } catch (err) {
        failure = err as Error & { code?: string; path?: string };
      }
    }
    assert.equal(failure.code, 'ENOSPC');
    assert.equal(failure.path, path);
    assert.equal(statSync(path).size, acked * KILO, 'no byte of the failed flush is left in the file');
    assert.equal(logger.pendingBytes, 10 * KILO, 'the failed flush keeps its records buffered');
    assert.deepEqual([...readLog(path)], Array.from({ length: acked }, (_, i) => kilo(i)));
    assert.throws(() => logger.flush(), { code: 'ENOSPC', path });
    assert.equal(logger.pendingBytes, 10 * KILO);

    // Buffer records until one does not fit: committing the buffer fails,
    // so that write() throws and its record is not taken.
    let rejected: string | undefined;
    while (rejected === undefined) {
      const record = kilo(written);
      try {
        logger.write(record);
        written++;
      } catch (err) {
        assert.equal((err as { code?: string }).code, 'ENOSPC');
        rejected = record;
      }
    }
    assert.equal(logger.pendingBytes, (written - acked) * KILO);
    assert.equal(statSync(path).size, acked * KILO);

    unlinkSync(filler);
    logger.flush();
    assert.equal(logger.pendingBytes, 0);
    assert.equal(statSync(path).size, written * KILO);
    logger.write('after');
    logger.close();
    assert.deepEqual([...readLog(path)], [...Array.from({ length: written }, (_, i) => kilo(i)), 'after']);
  });
});

// ------------------------------------------------------- rollover failing

describe('rollover failing', () => {
  test('link failing once: the records stay in the current file, one ERR_ROLLOVER_FAILED error, no retry for 1000 ms, then the retry seals everything into backup 0; a later run of failures is reported again', (t) => {
    mockDate(t);
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const link = failingFs('linkSync', 1);
    const logger = new BinaryLogger(path, { maxFileSize: 100, fs: link.fs });
    const { errors, rotations } = watch(logger);

    logger.write(fifty(0));
    logger.write(fifty(1)); // reaches 100 bytes: the rollover fails
    assert.equal(errors.length, 1);
    const [err] = errors;
    assert.equal(err!.code, 'ERR_ROLLOVER_FAILED');
    assert.equal(err!.cause?.code, 'EIO');
    assert.ok(err!.message.includes(path) && err!.message.includes(join(dir, 'events.0.bin')), err!.message);
    assert.deepEqual(filesOf(dir), { 'events.bin': frame(...range(0, 2)) }, 'nothing sealed, no temp file');

    for (let i = 2; i < 6; i++) logger.write(fifty(i));
    t.mock.timers.tick(RETRY_MS - 1);
    logger.write(fifty(6));
    assert.equal(link.calls(), 1, 'no retry within 1000 ms');
    assert.equal(errors.length, 1, 'one error for the run, not one per record');
    assert.deepEqual(filesOf(dir), { 'events.bin': frame(...range(0, 7)) });

    t.mock.timers.tick(1);
    logger.write(fifty(7)); // the retry
    assert.equal(link.calls(), 2);
    assert.deepEqual(rotations, [join(dir, 'events.0.bin')]);
    assert.deepEqual(filesOf(dir), { 'events.0.bin': frame(...range(0, 8)), 'events.bin': Buffer.alloc(0) });

    logger.write(fifty(8));
    logger.write(fifty(9)); // an ordinary rollover again
    link.failMore(1);
    logger.write(fifty(10));
    logger.write(fifty(11)); // a new run of failures
    assert.equal(errors.length, 2, 'a new run of failures is reported again');
    logger.close();
    assert.deepEqual(filesOf(dir), {
      'events.0.bin': frame(...range(0, 8)),
      'events.1.bin': frame(...range(8, 10)),
      'events.bin': frame(...range(10, 12)),
    });
    assert.deepEqual([...readLog(path)], range(0, 12));
  });

  test('rename failing three times: one error, the backup link undone each time, retried every 1000 ms until it succeeds, nothing lost', (t) => {
    mockDate(t);
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const rename = failingFs('renameSync', 3);
    const logger = new BinaryLogger(path, { maxFileSize: 100, fs: rename.fs });
    const { errors, rotations } = watch(logger);
    logger.write(fifty(0));
    logger.write(fifty(1));
    for (let attempt = 2; attempt <= 3; attempt++) {
      assert.deepEqual(filesOf(dir), { 'events.bin': frame(...range(0, attempt)) }, `after failure ${attempt - 1}`);
      t.mock.timers.tick(RETRY_MS);
      logger.write(fifty(attempt));
      assert.equal(rename.calls(), attempt);
    }
    assert.deepEqual(filesOf(dir), { 'events.bin': frame(...range(0, 4)) });
    t.mock.timers.tick(RETRY_MS);
    logger.write(fifty(4));
    assert.equal(rename.calls(), 4);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 'ERR_ROLLOVER_FAILED');
    assert.deepEqual(rotations, [join(dir, 'events.0.bin')]);
    logger.write(fifty(5));
    logger.close();
    assert.deepEqual(filesOf(dir), { 'events.0.bin': frame(...range(0, 5)), 'events.bin': frame(fifty(5)) });
  });

  test('creating the next current file failing twice: one error, logging continues, retried until it succeeds', (t) => {
    mockDate(t);
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const open = failingFs('openSync', 2, 'EMFILE', (file) => String(file).endsWith('.events.bin.next'));
    const logger = new BinaryLogger(path, { maxFileSize: 100, fs: open.fs });
    const { errors, rotations } = watch(logger);
    for (let i = 0; i < 3; i++) logger.write(fifty(i));
    assert.equal(open.calls(), 1);
    t.mock.timers.tick(RETRY_MS);
    logger.write(fifty(3));
    assert.equal(open.calls(), 2);
    assert.deepEqual(filesOf(dir), { 'events.bin': frame(...range(0, 4)) });
    t.mock.timers.tick(RETRY_MS);
    logger.write(fifty(4));
    assert.equal(open.calls(), 3);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.cause?.code, 'EMFILE');
    assert.deepEqual(rotations, [join(dir, 'events.0.bin')]);
    logger.close();
    assert.deepEqual(filesOf(dir), { 'events.0.bin': frame(...range(0, 5)), 'events.bin': Buffer.alloc(0) });
  });

  for (const durability of ['sync', 'buffered'] as Durability[]) {
    test(`a file planted where the next backup goes is never overwritten or truncated; logging continues in the current file, and the rollover succeeds once the name is free (${durability})`, (t) => {
      mockDate(t);
      const dir = tempDir(t);
      const path = join(dir, 'events.bin');
      const logger = new BinaryLogger(path, { maxFileSize: 100, durability, flushInterval: 0 });
      const { errors, rotations } = watch(logger);
      for (let i = 0; i < 6; i++) logger.write(fifty(i));
      logger.flush();
      assert.deepEqual(rotations, [0, 1, 2].map((s) => join(dir, `events.${s}.bin`)));
      // seq 3 is next (the logger counted it at open); plant a file there.
      const planted = join(dir, 'events.3.bin');
      const plantedBytes = frame('planted by hand');
      writeFileSync(planted, plantedBytes);
      const plantedIno = statSync(planted).ino;

      logger.write(fifty(6));
      logger.write(fifty(7));
      logger.flush();
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.code, 'ERR_ROLLOVER_FAILED');
      assert.equal(errors[0]!.cause?.code, 'EEXIST');
      for (let i = 8; i < 10; i++) {
        t.mock.timers.tick(RETRY_MS);
        logger.write(fifty(i)); // retried, and fails again
        logger.flush();
      }
      assert.equal(errors.length, 1, 'one error for the run of failures');
      assert.equal(statSync(planted).ino, plantedIno);
      assert.deepEqual(readFileSync(planted), plantedBytes, 'the planted file is untouched');
      assert.deepEqual(readFileSync(path), frame(...range(6, 10)), 'the records stay in the current file');
      assert.deepEqual([...readLog(path)], [...range(0, 6), 'planted by hand', ...range(6, 10)]);

      unlinkSync(planted);
      t.mock.timers.tick(RETRY_MS);
      logger.write(fifty(10));
      logger.close();
      assert.equal(errors.length, 1);
      assert.deepEqual(rotations.at(-1), planted);
      assert.deepEqual(filesOf(dir), {
        'events.0.bin': frame(...range(0, 2)),
        'events.1.bin': frame(...range(2, 4)),
        'events.2.bin': frame(...range(4, 6)),
        'events.3.bin': frame(...range(6, 11)),
        'events.bin': Buffer.alloc(0),
      });
    });
  }

  test('a directory where no file can be created (chattr +i): the rollover fails with EPERM, logging continues, and it succeeds once the directory is writable again', (t) => {
    mockDate(t);
    const root = mkdtempSync(join(tmpdir(), 'binlog-immutable-'));
    const dir = join(root, 'log');
    mkdirSync(dir);
    const path = join(dir, 'events.bin');
    const logger = new BinaryLogger(path, { maxFileSize: 100 });
    t.after(() => {
      spawnSync('chattr', ['-i', dir]);
      logger.close();
      rmSync(root, { recursive: true, force: true });
    });
    const made = spawnSync('chattr', ['+i', dir], { encoding: 'utf8' });
    if (made.status !== 0) return t.skip(`chattr +i is not available here: ${made.stderr || made.error}`);
    const { errors } = watch(logger);
    for (let i = 0; i < 4; i++) logger.write(fifty(i));
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 'ERR_ROLLOVER_FAILED');
    assert.equal(errors[0]!.cause?.code, 'EPERM');
    assert.deepEqual(filesOf(dir), { 'events.bin': frame(...range(0, 4)) });
    assert.equal(spawnSync('chattr', ['-i', dir]).status, 0);
    t.mock.timers.tick(RETRY_MS);
    logger.write(fifty(4));
    logger.close();
    assert.equal(errors.length, 1);
    assert.deepEqual(filesOf(dir), { 'events.0.bin': frame(...range(0, 5)), 'events.bin': Buffer.alloc(0) });
  });
});

// ------------------------------------------ the current file changed under us

describe('the current file changed by another program', () => {
  async function changedWarnings(warnings: Warning[], path: string): Promise<string[]> {
    await tick(); // process warnings are emitted on the next tick
    return warnings.filter((w) => w.code === 'BINLOG_CURRENT_FILE_CHANGED' && w.message.includes(path)).map((w) => w.message);
  }

  test('deleted: records written before the check go to the deleted file; the first write 1000 ms on warns once and recreates the file at the path', async (t) => {
    mockDate(t);
    const warnings = captureWarnings(t);
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const logger = new BinaryLogger(path, 1000);
    logger.write('a');
    logger.write('b');
    unlinkSync(path);
    logger.write('c'); // not checked yet: into the deleted file
    assert.deepEqual(await changedWarnings(warnings, path), []);
    t.mock.timers.tick(CHECK_MS);
    logger.write('d');
    const seen = await changedWarnings(warnings, path);
    assert.equal(seen.length, 1);
    assert.match(seen[0]!, /was deleted/);
    logger.write('e');
    logger.close();
    assert.deepEqual(filesOf(dir), { 'events.bin': frame('d', 'e') });
    assert.deepEqual([...readLog(path)], ['d', 'e']);
  });

  test('truncated (copytruncate): records written after the truncation are kept, the first write 1000 ms on warns once, and appending goes on at the path', async (t) => {
    mockDate(t);
    const warnings = captureWarnings(t);
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const logger = new BinaryLogger(path, 1000);
    for (const r of ['a', 'b', 'c']) logger.write(r);
    copyFileSync(path, join(dir, 'events.bin.1'));
    truncateSync(path, 0);
    logger.write('d'); // O_APPEND: at the new end of file, byte 0
    t.mock.timers.tick(CHECK_MS);
    logger.write('e');
    const seen = await changedWarnings(warnings, path);
    assert.equal(seen.length, 1);
    assert.match(seen[0]!, /was truncated from 20 to 5 bytes/);
    logger.close();
    assert.deepEqual(filesOf(dir), { 'events.bin': frame('d', 'e'), 'events.bin.1': frame('a', 'b', 'c') });
    assert.deepEqual([...readLog(path)], ['d', 'e']);
  });

  test('replaced (create: renamed away, a new empty file made): records before the check go to the renamed file; the first write 1000 ms on warns once and appends to the new file', async (t) => {
    mockDate(t);
    const warnings = captureWarnings(t);
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const logger = new BinaryLogger(path, 1000);
    logger.write('a');
    logger.write('b');
    renameSync(path, join(dir, 'events.bin.1'));
    writeFileSync(path, '');
    logger.write('c');
    t.mock.timers.tick(CHECK_MS);
    logger.write('d');
    const seen = await changedWarnings(warnings, path);
    assert.equal(seen.length, 1);
    assert.match(seen[0]!, /was replaced by another file/);
    logger.close();
    assert.deepEqual(filesOf(dir), { 'events.bin': frame('d'), 'events.bin.1': frame('a', 'b', 'c') });
  });

  test('an unchanged current file gives no warning however often it is checked', async (t) => {
    mockDate(t);
    const warnings = captureWarnings(t);
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const logger = new BinaryLogger(path, 100);
    for (let i = 0; i < 10; i++) {
      logger.write(fifty(i));
      t.mock.timers.tick(CHECK_MS);
    }
    logger.close();
    assert.deepEqual(await changedWarnings(warnings, path), []);
    assert.deepEqual([...readLog(path)], range(0, 10));
  });
});

// ------------------------------------------------------ one logger per log

/**
 * Run lock-child.js `how` in a process (inside `wrap`, a command taking a
 * shell line, if given): `line` resolves with its first line of output (or
 * all of it once it ended), `closed` once it ended.
 */
function startLockChild(
  path: string,
  how: string,
  wrap: string[] = [],
): { child: ReturnType<typeof spawn>; line: Promise<string>; closed: Promise<void> } {
  const argv = [process.execPath, LOCK_CHILD, path, how];
  const [cmd, ...args] = wrap.length > 0 ? [...wrap, `${argv.join(' ')}; true`] : argv;
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const line = new Promise<string>((resolve) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    void closed.then(() => resolve(out.trim()));
  });
  return { child, line, closed };
}

describe('one logger per log', () => {
  test('a second logger on the same path in the same thread is refused with ERR_LOGGER_PATH_IN_USE, changes nothing, and the first keeps working', (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const first = new BinaryLogger(path, 100);
    first.write('one');
    const before = filesOf(dir);
    assert.throws(() => new BinaryLogger(path, { maxFileSize: 100, durability: 'buffered' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_LOGGER_PATH_IN_USE');
      assert.ok(err.message.includes(path), err.message);
      return true;
    });
    assert.deepEqual(filesOf(dir), before);
    first.write('two');
    first.close();
    assert.deepEqual([...readLog(path)], ['one', 'two']);
  });

  test('a logger opened on the same path in another worker thread is refused with ERR_LOGGER_PATH_IN_USE, and opens once the first is closed', async (t) => {
    const path = join(tempDir(t), 'events.bin');
    const first = new BinaryLogger(path, 100);
    const attempt = async (): Promise<string> => {
      const worker = new Worker(LOCK_CHILD, { workerData: { path } });
      const message = once(worker, 'message');
      const exited = once(worker, 'exit'); // listening before it can happen
      const [result] = (await message) as [string];
      await exited;
      return result;
    };
    assert.equal(await attempt(), 'ERR_LOGGER_PATH_IN_USE');
    first.close();
    assert.equal(await attempt(), 'opened');
  });

  test('a logger opened on the same path in another process is refused with ERR_LOGGER_PATH_IN_USE, and opens once the first is closed', async (t) => {
    const path = join(tempDir(t), 'events.bin');
    const first = new BinaryLogger(path, 100);
    assert.equal(await startLockChild(path, 'try').line, 'ERR_LOGGER_PATH_IN_USE');
    first.write('mine');
    first.close();
    assert.equal(await startLockChild(path, 'try').line, 'opened');
    assert.deepEqual([...readLog(path)], ['mine']);
  });

  test('while another process holds the log this process is refused; once that process is SIGKILLed its stale lock is taken over', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const { child, line, closed } = startLockChild(path, 'hold');
    t.after(() => child.kill('SIGKILL'));
    assert.equal(await line, 'ready');
    assert.throws(() => new BinaryLogger(path, 100), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_LOGGER_PATH_IN_USE');
      assert.ok(err.message.includes(`(process ${child.pid}, thread `), err.message);
      return true;
    });
    child.kill('SIGKILL');
    await closed;
    assert.ok(readFileSync(join(dir, LOCK_NAME), 'utf8').startsWith(`${child.pid} `), 'the dead holder left its lock');
    const logger = new BinaryLogger(path, 100);
    assert.ok(readFileSync(join(dir, LOCK_NAME), 'utf8').startsWith(`${process.pid} `), 'the lock is ours now');
    logger.write('after');
    logger.close();
    assert.equal(existsSync(join(dir, LOCK_NAME)), false, 'close() removes the lock');
    assert.deepEqual([...readLog(path)], [`held by ${child.pid}`, 'after']);
  });

  test('a stale lock whose pid and thread id now belong to a new process (a restarted container: same PID namespace numbers) is taken over', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root for unshare --pid');
    const probe = spawnSync('unshare', ['-pf', '--mount-proc', 'true']);
    if (probe.status !== 0) return t.skip(`unshare --pid is not available: ${probe.stderr}`);
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const ns = ['unshare', '-pf', '--mount-proc', 'sh', '-c'];
    // In a fresh PID namespace, node gets the same pid every time.
    assert.equal(await startLockChild(path, 'kill', ns).line, 'ready');
    const stale = readFileSync(join(dir, LOCK_NAME), 'utf8');
    const { line, closed } = startLockChild(path, 'try', ns);
    assert.equal(await line, 'opened', `refused by its own predecessor's lock "${stale.trim()}"`);
    await closed;
    const [record] = [...readLog(path)];
    assert.match(record!, /^held by \d+$/);
    assert.equal(stale.split(' ')[0], record!.split(' ')[2], 'both runs had the same pid');
  });

  test('a lock file left empty by a process killed while taking it is refused while fresh (it may be being written) and taken over once 5 s old', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    await startLockChild(path, 'die-taking-lock').closed;
    const lock = join(dir, LOCK_NAME);
    assert.equal(readFileSync(lock, 'utf8'), '', 'the killed process left an empty lock');
    assert.throws(() => new BinaryLogger(path, 100), { code: 'ERR_LOGGER_PATH_IN_USE' });
    const past = new Date(Date.now() - 6000);
    utimesSync(lock, past, past);
    const logger = new BinaryLogger(path, 100);
    logger.write('taken over');
    logger.close();
    assert.deepEqual([...readLog(path)], ['taken over']);
  });
});
