/**
 * A walk whose listing has gone stale: readers (readLog, follow, openCursor,
 * the shipper) list the backups once and open each one only when the
 * consumer has finished the one before, which for a shipper awaiting acks
 * can be seconds later. Meanwhile compression replaces `events.1.bin` with
 * `events.1.bin.gz` (same records, another name) and retention deletes old
 * backups. Each interleaving is forced here by doing the housekeeping while
 * the reader is suspended between two records, or inside the reader's open.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { gzipSync } from 'node:zlib';
import { nodeFs, type FsOps } from '../src/fsops.js';
import { BinaryLogger, follow, openCursor, readLog, type LogEntry } from '../src/index.js';
import { logFiles } from '../src/read/walk.js';
import { compressBackup } from '../src/retention.js';
import { tempDir } from './helpers.js';

const RECORD = (n: number): string => `record ${String(n).padStart(3, '0')} ${'.'.repeat(17)}`;
/** 32 bytes a record (4 + 28): 4 records a file at maxFileSize 128. */
const PER_FILE = 4;

/** A log of backups 0..2 (plain) and a current file: 14 records. */
function makeLog(t: test.TestContext): { path: string; records: string[] } {
  const path = join(tempDir(t), 'events.bin');
  const records = Array.from({ length: 3 * PER_FILE + 2 }, (_, i) => RECORD(i));
  const logger = new BinaryLogger(path, { maxFileSize: PER_FILE * 32 });
  for (const r of records) logger.write(r);
  logger.close();
  assert.deepEqual(readdirSync(join(path, '..')).filter((n) => n.startsWith('events.')).sort(), ['events.0.bin', 'events.1.bin', 'events.2.bin', 'events.bin']);
  return { path, records };
}

const positionsOf = (n: number): { seq: number; offset: number } => ({ seq: Math.floor(n / PER_FILE), offset: (n % PER_FILE) * 32 });

test('readLog: a backup compressed after the listing, before its open, is read from its .gz, with the same positions', async (t) => {
  const { path, records } = makeLog(t);
  const got: Array<LogEntry<string>> = [];
  for (const entry of readLog(path, { withPositions: true })) {
    got.push(entry);
    // Suspended inside backup 0, with events.1.bin listed: compress it now.
    if (got.length === 1) assert.equal(await compressBackup(join(path, '..', 'events.1.bin')), join(path, '..', 'events.1.bin.gz'));
  }
  assert.ok(!existsSync(join(path, '..', 'events.1.bin')));
  assert.deepEqual(got.map((e) => e.payload), records);
  assert.deepEqual(got.map((e) => e.position), records.map((_, i) => positionsOf(i)));
});

test('follow: a backup compressed while the follower is suspended is read whole; nothing is skipped', async (t) => {
  const { path, records } = makeLog(t);
  const ac = new AbortController();
  const got: string[] = [];
  for await (const record of follow(path, { fromStart: true, signal: ac.signal, pollInterval: 10 })) {
    got.push(record);
    if (got.length === 1) {
      await compressBackup(join(path, '..', 'events.1.bin'));
      await compressBackup(join(path, '..', 'events.2.bin'));
    }
    // The last record is in the current file, reached whatever happened to the backups: stop there.
    if (record === records[records.length - 1]) break;
  }
  assert.deepEqual(got, records);
});

test('openCursor: a backup compressed after the listing is read from its .gz', async (t) => {
  const { path, records } = makeLog(t);
  using cursor = openCursor(path);
  const got: string[] = [];
  while (cursor.next()) {
    got.push(cursor.payload().toString());
    if (got.length === PER_FILE) await compressBackup(join(path, '..', 'events.1.bin'));
  }
  assert.deepEqual(got, records);
});

test('a backup deleted after the listing (retention) is skipped, and the walk goes on', (t) => {
  const { path, records } = makeLog(t);
  const got: string[] = [];
  for (const record of readLog(path)) {
    got.push(record);
    if (got.length === 1) unlinkSync(join(path, '..', 'events.1.bin'));
  }
  assert.deepEqual(got, [...records.slice(0, PER_FILE), ...records.slice(2 * PER_FILE)]);
});

test('a backup compressed and then deleted after the listing is skipped', async (t) => {
  const { path, records } = makeLog(t);
  const got: string[] = [];
  for (const record of readLog(path)) {
    got.push(record);
    if (got.length === 1) {
      await compressBackup(join(path, '..', 'events.1.bin'));
      unlinkSync(join(path, '..', 'events.1.bin.gz'));
    }
  }
  assert.deepEqual(got, [...records.slice(0, PER_FILE), ...records.slice(2 * PER_FILE)]);
});

test('the current file rolled over and compressed between the listing and its open: read as the backup it became, then the new current file', async (t) => {
  const { path, records } = makeLog(t);
  const more = [RECORD(100), RECORD(101)];
  let rolled = false;
  // The walk lists backups 0..2, reads them, lists again (nothing new), then opens
  // the current file: just before that open, a rollover seals it as backup 3,
  // compression replaces events.3.bin by events.3.bin.gz, and records go into
  // the new current file.
  const fs: FsOps = {
    ...nodeFs,
    openSync(p, flags, mode) {
      if (p === path && !rolled) {
        rolled = true;
        nodeFs.renameSync(path, join(path, '..', 'events.3.bin'));
        compressBackupSync(join(path, '..', 'events.3.bin'));
        const logger = new BinaryLogger(path, { maxFileSize: PER_FILE * 32 });
        for (const r of more) logger.write(r);
        logger.close();
      }
      return nodeFs.openSync(p, flags, mode);
    },
  };
  const got: Array<{ payload: string; seq: number; offset: number }> = [];
  for (const { file, cursor } of logFiles(path, true, undefined, fs)) {
    while (cursor.next()) if (cursor.load()) got.push({ payload: cursor.buf.subarray(cursor.payloadStart, cursor.payloadEnd).toString(), seq: file.seq, offset: cursor.offset });
  }
  assert.ok(rolled);
  assert.deepEqual(got.map((e) => e.payload), [...records, ...more]);
  assert.deepEqual(got.map(({ seq, offset }) => ({ seq, offset })), [...records.map((_, i) => positionsOf(i)), { seq: 4, offset: 0 }, { seq: 4, offset: 32 }]);
});

/** compressBackup's steps (write .gz.tmp, rename to .gz, remove the plain file), synchronously, for an fs hook. */
function compressBackupSync(backup: string): string {
  const gz = `${backup}.gz`;
  writeFileSync(`${gz}.tmp`, gzipSync(readFileSync(backup)));
  renameSync(`${gz}.tmp`, gz);
  unlinkSync(backup);
  return gz;
}
