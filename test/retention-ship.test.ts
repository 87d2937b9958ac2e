/**
 * Retention and shipping (issue 12, item 3): backups a shipper has not
 * finished are kept by maxFiles and maxAge, and dropped by the hard
 * maxTotalSize only with BINLOG_UNSHIPPED_DROPPED. And maxAge judges each
 * backup on its own merits (issue 10, item 8).
 */
import assert from 'node:assert/strict';
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BinaryLogger } from '../src/index.js';
import { shipCheckpointPath, writeCheckpoint } from '../src/ship/checkpoint.js';
import { listFiles, tempDir } from './helpers.js';

const names = (dir: string): string[] => listFiles(dir).map((f) => f.name).filter((n) => !n.startsWith('.'));

/** Each record of 10 bytes on disk fills a file of maxFileSize 10: one rollover per write. */
function writeOnePerFile(logger: BinaryLogger, from: number, to: number): void {
  for (let i = from; i < to; i++) logger.write(`rec${String(i).padStart(3, '0')}`);
}

function shippedUpTo(path: string, seq: number): void {
  writeCheckpoint(shipCheckpointPath(path, 'S', 'logs.a'), { version: 1, log: 'logs.a', stream: 'S', subject: 'logs.a', position: { seq, offset: 0 }, streamSeq: 1 });
}

/** Collect process warnings while `fn` runs; they are asserted, never printed. */
function captureWarnings(fn: () => void): Array<{ code: string | undefined; message: string }> {
  const seen: Array<{ code: string | undefined; message: string }> = [];
  const original = process.emitWarning;
  // Capture at the call: nothing reaches the 'warning' event or stderr.
  process.emitWarning = ((msg: string, opts?: { code?: string }) => void seen.push({ code: opts?.code, message: msg })) as typeof process.emitWarning;
  try {
    fn();
  } finally {
    process.emitWarning = original;
  }
  return seen;
}

test('maxAge deletes every backup older than it whatever its number, never the newest', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  {
    using logger = new BinaryLogger(path, { maxFileSize: 10 });
    writeOnePerFile(logger, 0, 5);
  }
  // mtimes out of number order: 1 and 3 are old, 0, 2 and 4 are fresh; 4 (newest) old too.
  const old = new Date(Date.now() - 120_000);
  for (const n of [1, 3, 4]) utimesSync(join(dir, `events.${n}.bin`), old, old);
  {
    using logger = new BinaryLogger(path, { maxFileSize: 10, maxAge: 60_000 });
    assert.deepEqual(names(dir), ['events.0.bin', 'events.2.bin', 'events.4.bin', 'events.bin']);
    void logger;
  }
});

test('maxFiles and maxAge keep the backups a shipper has not finished', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  shippedUpTo(path, 2);
  const old = new Date(Date.now() - 120_000);
  {
    using logger = new BinaryLogger(path, { maxFileSize: 10, maxFiles: 1 });
    writeOnePerFile(logger, 0, 6);
    // 0 and 1 are shipped and go; 2..5 wait for the shipper.
    assert.deepEqual(names(dir), ['events.2.bin', 'events.3.bin', 'events.4.bin', 'events.5.bin', 'events.bin']);
  }
  for (const n of [2, 3, 4, 5]) utimesSync(join(dir, `events.${n}.bin`), old, old);
  shippedUpTo(path, 4);
  {
    using logger = new BinaryLogger(path, { maxFileSize: 10, maxAge: 60_000 });
    assert.deepEqual(names(dir), ['events.4.bin', 'events.5.bin', 'events.bin']);
    shippedUpTo(path, 7);
    writeOnePerFile(logger, 6, 7);
    // The shipper is past them all now: old 4 and 5 go; 6 is fresh.
    assert.deepEqual(names(dir), ['events.6.bin', 'events.bin']);
  }
});

test('maxTotalSize still wins over the shipper, and warns with BINLOG_UNSHIPPED_DROPPED naming what was dropped', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  shippedUpTo(path, 1);
  let warnings: Array<{ code: string | undefined; message: string }> = [];
  using logger = new BinaryLogger(path, { maxFileSize: 10, maxTotalSize: 25 });
  warnings = captureWarnings(() => writeOnePerFile(logger, 0, 4));
  // Backups of 10 bytes, at most 2 kept: 0 went shipped, 1 went unshipped.
  assert.deepEqual(names(dir), ['events.2.bin', 'events.3.bin', 'events.bin']);
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.code, 'BINLOG_UNSHIPPED_DROPPED');
  assert.match(warnings[0]!.message, /events\.1\.bin/);
  assert.doesNotMatch(warnings[0]!.message, /events\.0\.bin/);
});
