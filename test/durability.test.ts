/**
 * Issue 4: durability modes. Every mode writes the same bytes; the buffered
 * modes flush when full, on flush(), on a timer, and when the process ends.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { BinaryLogger, DURABILITIES, readLog, type Durability } from '../src/index.js';
import { nodeFs, type FsOps } from '../src/fsops.js';
import { filesOf, listFiles, mockTimers, predictNamedFiles, tempDir } from './helpers.js';

const CHILD = new URL('./fixtures/exit-child.js', import.meta.url).pathname;

/** fs calls counted by name. */
function countingFs(): { fs: FsOps; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const fs = Object.fromEntries(
    Object.entries(nodeFs).map(([name, fn]) => [
      name,
      (...args: unknown[]) => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        return (fn as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as FsOps;
  return { fs, calls };
}

describe('every durability writes the same bytes', () => {
  test('for any payloads, maxFileSize and bufferSize, every mode leaves exactly the files the rollover rule predicts', (t) => {
    const root = tempDir(t);
    let run = 0;
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 300 })), { maxLength: 60 }),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 64, max: 700 }),
        (payloads, maxFileSize, bufferSize) => {
          const predicted = predictNamedFiles('events.bin', payloads, maxFileSize);
          for (const durability of ['sync', 'buffered'] as Durability[]) {
            const dir = join(root, String(run++));
            {
              using logger = new BinaryLogger(join(dir, 'events.bin'), { maxFileSize, durability, bufferSize, flushInterval: 0 });
              for (const p of payloads) logger.write(p);
            }
            assert.deepEqual(filesOf(dir), predicted, durability);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  for (const durability of DURABILITIES) {
    test(`the spec example gives backups 0..4 of 108 bytes (${durability})`, (t) => {
      const dir = tempDir(t);
      {
        using logger = new BinaryLogger(join(dir, 'events.bin'), { maxFileSize: 100, durability, bufferSize: 256 });
        for (let i = 0; i < 10; i++) logger.write('a'.repeat(50));
      }
      assert.deepEqual(listFiles(dir), [
        ...[0, 1, 2, 3, 4].map((i) => ({ name: `events.${i}.bin`, size: 108 })),
        { name: 'events.bin', size: 0 },
      ]);
    });
  }
});

describe('buffered durability', () => {
  test('records wait in the buffer until flush(), which hands them all to the OS', (t) => {
    const path = join(tempDir(t), 'events.bin');
    using logger = new BinaryLogger(path, { maxFileSize: 1 << 20, durability: 'buffered', flushInterval: 0 });
    logger.write('one');
    logger.write(new Uint8Array([1, 2, 3]));
    assert.equal(logger.pendingBytes, 4 + 3 + 4 + 3);
    assert.equal(readFileSync(path).length, 0);
    logger.flush();
    assert.equal(logger.pendingBytes, 0);
    assert.deepEqual(readFileSync(path), Buffer.from([0, 0, 0, 3, 0x6f, 0x6e, 0x65, 0, 0, 0, 3, 1, 2, 3]));
  });

  test('a full buffer is written out at once, so memory stays within bufferSize', (t) => {
    const path = join(tempDir(t), 'events.bin');
    const bufferSize = 1000;
    const { fs, calls } = countingFs();
    using logger = new BinaryLogger(path, { maxFileSize: 1 << 30, durability: 'buffered', bufferSize, flushInterval: 0, fs });
    for (let i = 0; i < 1000; i++) {
      logger.write(`record number ${String(i).padStart(4, '0')}`); // 4 + 18 bytes
      assert.ok(logger.pendingBytes <= bufferSize);
    }
    // 45 records of 22 bytes fill 990 of 1000 bytes: one write(2) per 45
    // records, 22 of them for 1000 records; 10 records still buffered.
    assert.equal(calls.get('writeSync'), 22);
    assert.equal(readFileSync(path).length, 22 * 45 * 22);
    assert.equal(logger.pendingBytes, 10 * 22);
    logger.flush();
    assert.equal(readFileSync(path).length, 1000 * 22);
  });

  test('a record larger than the buffer is written directly, after what was buffered', (t) => {
    const path = join(tempDir(t), 'events.bin');
    using logger = new BinaryLogger(path, { maxFileSize: 1 << 30, durability: 'buffered', bufferSize: 64, flushInterval: 0 });
    logger.write('small');
    logger.write('L'.repeat(500));
    assert.equal(logger.pendingBytes, 0);
    logger.write('after');
    logger.flush();
    assert.deepEqual([...readLog(path)], ['small', 'L'.repeat(500), 'after']);
  });

  test('records are written after flushInterval ms without a flush()', (t) => {
    mockTimers(t, { apis: ['setTimeout'] });
    const path = join(tempDir(t), 'events.bin');
    using logger = new BinaryLogger(path, { maxFileSize: 1 << 20, durability: 'buffered', flushInterval: 100 });
    logger.write('a');
    logger.write('b');
    t.mock.timers.tick(99);
    assert.equal(readFileSync(path).length, 0);
    t.mock.timers.tick(1);
    assert.deepEqual([...readLog(path)], ['a', 'b']);
    assert.equal(logger.pendingBytes, 0);
  });

  test('read() flushes first, so the logger sees its own writes', (t) => {
    const path = join(tempDir(t), 'events.bin');
    using logger = new BinaryLogger(path, { maxFileSize: 1 << 20, durability: 'buffered', flushInterval: 0 });
    logger.write('mine');
    assert.deepEqual([...logger.read()], ['mine']);
  });
});

describe('fsync durability', () => {
  const cases: Array<{ durability: Durability; datasyncs: number }> = [
    { durability: 'sync', datasyncs: 0 },
    { durability: 'fsync', datasyncs: 10 },
    { durability: 'buffered', datasyncs: 0 },
    // One group commit per flush: 6 records reach maxFileSize 300 (the
    // chunk is split there), 4 more are flushed by close().
    { durability: 'buffered-fsync', datasyncs: 2 },
  ];
  for (const { durability, datasyncs } of cases) {
    test(`${durability} calls fdatasync ${datasyncs} times for 10 writes and fsyncs the directory after a rollover only when it syncs`, (t) => {
      const dir = tempDir(t);
      const { fs, calls } = countingFs();
      {
        using logger = new BinaryLogger(join(dir, 'events.bin'), { maxFileSize: 300, durability, fs, flushInterval: 0 });
        for (let i = 0; i < 10; i++) logger.write('x'.repeat(46)); // 50 bytes a record
      }
      assert.equal(calls.get('fdatasyncSync') ?? 0, datasyncs);
      const syncs = durability === 'fsync' || durability === 'buffered-fsync';
      assert.equal(calls.get('fsyncSync') ?? 0, syncs ? 1 : 0, 'one rollover, one directory fsync');
      assert.deepEqual(listFiles(dir), [
        { name: 'events.0.bin', size: 300 },
        { name: 'events.bin', size: 200 },
      ]);
    });
  }
});

describe('buffered records survive the end of the process', () => {
  const endings: Array<{ how: string; status: number | null; signal: NodeJS.Signals | null; extra?: string[] }> = [
    { how: 'exit', status: 0, signal: null },
    { how: 'end', status: 0, signal: null },
    { how: 'throw', status: 1, signal: null },
    { how: 'SIGTERM', status: null, signal: 'SIGTERM' },
    { how: 'SIGINT', status: null, signal: 'SIGINT' },
    { how: 'SIGHUP', status: null, signal: 'SIGHUP' },
    { how: 'handled', status: 3, signal: null, extra: ['from the handler'] },
  ];
  for (const durability of ['buffered', 'buffered-fsync'] as Durability[]) {
    for (const { how, status, signal, extra = [] } of endings) {
      test(`${how} flushes every record and keeps its exit status (${durability})`, (t) => {
        const path = join(tempDir(t), 'events.bin');
        const child = spawnSync(process.execPath, [CHILD, path, durability, '500', how], { encoding: 'utf8' });
        assert.equal(child.stdout, '500\n');
        assert.equal(child.status, status, child.stderr);
        assert.equal(child.signal, signal);
        const expected = [...Array.from({ length: 500 }, (_, i) => `record ${i}`), ...extra];
        assert.deepEqual([...readLog(path)], expected);
      });
    }
  }

  test('SIGKILL loses the unflushed tail, and only that', (t) => {
    const path = join(tempDir(t), 'events.bin');
    const child = spawnSync(process.execPath, [CHILD, path, 'buffered', '500', 'SIGKILL'], { encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL');
    assert.deepEqual([...readLog(path)], []);
  });
});
