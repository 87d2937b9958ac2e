/**
 * Issue 3: one log written by many worker threads at once.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { BinaryLogger, readLog, type Durability } from '../src/index.js';
import { splitName } from '../src/naming.js';
import { payloadFor, rng, type WriterData, type WriterReport } from './fixtures/thread-writer.js';
import { captureWarnings, predictFiles, tempDir, type Warning } from './helpers.js';

const WRITER = new URL('./fixtures/thread-writer.js', import.meta.url);

interface Writer {
  name: string;
  seed: number;
  maxLen: number;
  /** Writes that returned. */
  acked: () => number;
  /** True if the writer may have one more record in the log than it acked. */
  inFlight: boolean;
}

type Reported = WriterReport['warnings'];

/** The code and message of each warning, from the main thread's capture and the workers' reports. */
function allWarnings(main: Warning[], workers: Array<{ warnings: Reported }>): Array<[string | undefined, string]> {
  return [...main, ...workers.flatMap((w) => w.warnings)].map((w) => [w.code, w.message]);
}

function startWorker(
  handle: ReturnType<BinaryLogger['share']>,
  acked: SharedArrayBuffer,
  index: number,
  extra: Partial<WriterData> & { count: number; maxLen: number },
): { worker: Worker; done: Promise<number>; writer: Writer; warnings: Reported } {
  const data: WriterData = { handle, writer: `w${index}`, index, seed: 1000 + index, acked, ...extra };
  const worker = new Worker(WRITER, { workerData: data });
  // A worker that finishes reports its warnings (Node delivers a worker's
  // messages before its 'exit' event); one terminated reports none.
  const warnings: Reported = [];
  worker.on('message', (report: WriterReport) => warnings.push(...report.warnings));
  const done = new Promise<number>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', resolve);
  });
  const counts = new Int32Array(acked);
  return {
    worker,
    done,
    writer: { name: data.writer, seed: data.seed, maxLen: data.maxLen, acked: () => Atomics.load(counts, index), inFlight: false },
    warnings,
  };
}

/**
 * The log holds every acknowledged record of every writer exactly once and
 * in its order, whole, with at most one unacknowledged record beyond (a
 * write in flight when its thread died); backups are numbered 0..n-1 with
 * no gap; and every file is byte for byte what the rollover rule gives for
 * the records in the order they were written.
 */
function checkLog(path: string, maxFileSize: number, writers: Writer[]): number {
  const records = [...readLog(path)];
  const byWriter = new Map<string, string[]>();
  for (const record of records) {
    const name = record.slice(0, record.indexOf(':'));
    let list = byWriter.get(name);
    if (!list) byWriter.set(name, (list = []));
    list.push(record);
  }
  let total = 0;
  for (const w of writers) {
    const got = byWriter.get(w.name) ?? [];
    const acked = w.acked();
    assert.ok(
      got.length === acked || (w.inFlight && got.length === acked + 1),
      `${w.name}: ${got.length} records in the log, ${acked} acknowledged`,
    );
    const random = rng(w.seed);
    for (let n = 0; n < got.length; n++) {
      const expected = payloadFor(w.name, n, 1 + Math.floor(random() * w.maxLen));
      if (got[n] !== expected) assert.equal(got[n], expected, `${w.name} record ${n}`);
    }
    byWriter.delete(w.name);
    total += got.length;
  }
  assert.deepEqual([...byWriter.keys()], [], 'records from unknown writers');

  const { dir, stem, ext, base } = splitName(path);
  const names = readdirSync(dir).filter((n) => n !== base);
  const seqs = names.map((n) => Number(n.slice(stem.length + 1, n.length - ext.length))).sort((a, b) => a - b);
  assert.deepEqual(seqs, seqs.map((_, i) => i), 'backups numbered 0..n-1');
  const files = [...seqs.map((s) => join(dir, `${stem}.${s}${ext}`)), path].map((p) => readFileSync(p));
  const predicted = predictFiles(records, maxFileSize);
  assert.equal(files.length, predicted.length, 'number of files');
  for (let i = 0; i < files.length; i++) {
    if (!files[i]!.equals(predicted[i]!)) assert.fail(`file ${i} differs from what the rollover rule gives`);
  }
  return total;
}

const STRESS: Array<{ durability: Durability; workers: number; count: number }> = [
  { durability: 'sync', workers: 8, count: 20_000 },
  { durability: 'buffered', workers: 8, count: 20_000 },
  { durability: 'buffered-fsync', workers: 4, count: 5_000 },
  { durability: 'fsync', workers: 2, count: 300 },
];

describe('many threads writing one log', () => {
  for (const { durability, workers, count } of STRESS) {
    test(`${workers} workers x ${count} writes plus the main thread lose, repeat and tear nothing (${durability})`, async (t) => {
      const path = join(tempDir(t), 'events.bin');
      const maxFileSize = 4096;
      const warnings = captureWarnings(t);
      const logger = new BinaryLogger(path, { maxFileSize, durability });
      const acked = new SharedArrayBuffer(4 * (workers + 1));
      const started = Array.from({ length: workers }, (_, i) =>
        startWorker(logger.share(), acked, i, { count, maxLen: 200 }),
      );
      // The main thread writes too, yielding now and then so workers start.
      const main: Writer = { name: 'main', seed: 7, maxLen: 200, acked: () => mainAcked, inFlight: false };
      let mainAcked = 0;
      const random = rng(main.seed);
      for (let n = 0; n < count; n++) {
        logger.write(payloadFor('main', n, 1 + Math.floor(random() * 200)));
        mainAcked = n + 1;
        if (n % 1000 === 0) await tick();
      }
      const codes = await Promise.all(started.map((s) => s.done));
      assert.deepEqual(codes, codes.map(() => 0));
      logger.close();
      const total = checkLog(path, maxFileSize, [main, ...started.map((s) => s.writer)]);
      assert.equal(total, count * (workers + 1));
      await tick();
      assert.deepEqual(allWarnings(warnings, started), [], 'no thread warned');
    });
  }
});

describe('a worker that dies holding the lock', () => {
  // Each point is a file-system call inside the lock; the victim blocks
  // right after it, and is terminated there.
  const POINTS: Array<{ method: 'writeSync' | 'openSync' | 'linkSync' | 'renameSync'; nth: number; what: string; rollover: boolean }> = [
    { method: 'writeSync', nth: 7, what: 'after writing a record, before counting it', rollover: false },
    { method: 'openSync', nth: 2, what: 'after creating the next current file, before sealing the backup', rollover: true },
    { method: 'linkSync', nth: 1, what: 'after linking the backup name, before the rename', rollover: true },
    { method: 'renameSync', nth: 1, what: 'after the rename, before telling other threads', rollover: true },
  ];
  for (const point of POINTS) {
    test(`is taken over and repaired when terminated ${point.what}`, async (t) => {
      const path = join(tempDir(t), 'events.bin');
      const maxFileSize = 300;
      const warnings = captureWarnings(t);
      const logger = new BinaryLogger(path, { maxFileSize });
      logger.on('error', (err) => assert.fail(err));
      const acked = new SharedArrayBuffer(8);
      const paused = new SharedArrayBuffer(8);
      const victim = startWorker(logger.share(), acked, 0, {
        count: 1000,
        maxLen: 60,
        pause: { method: point.method, nth: point.nth, paused },
      });
      victim.writer.inFlight = true;
      const flag = new Int32Array(paused);
      while (Atomics.load(flag, 0) === 0) await Atomics.waitAsync(flag, 0, 0, 1000).value;
      await victim.worker.terminate();
      await victim.done;
      // The lock is still held by the dead thread: the next writers must
      // notice, take it over, repair, and go on.
      const survivor = startWorker(logger.share(), acked, 1, { count: 500, maxLen: 60 });
      const main: Writer = { name: 'main', seed: 3, maxLen: 60, acked: () => mainAcked, inFlight: false };
      let mainAcked = 0;
      const random = rng(main.seed);
      for (let n = 0; n < 200; n++) {
        logger.write(payloadFor('main', n, 1 + Math.floor(random() * 60)));
        mainAcked = n + 1;
      }
      assert.equal(await survivor.done, 0);
      logger.close();
      checkLog(path, maxFileSize, [victim.writer, survivor.writer, main]);
      assert.equal(readdirSync(join(path, '..')).filter((n) => n.startsWith('.')).length, 0, 'no temporary file left');
      // Whichever thread took the lock over (main or survivor) finished the
      // rollover the victim was in, and said so once; mid-record, no rollover
      // was interrupted.
      await tick();
      assert.deepEqual(
        allWarnings(warnings, [victim, survivor]),
        point.rollover ? [['BINLOG_ROLLOVER_RECOVERED', `Finished an interrupted rollover of "${path}"`]] : [],
      );
    });
  }

  test('terminating writers at random moments, round after round, never blocks the others or corrupts the log', async (t) => {
    const dir = tempDir(t);
    const random = rng(42);
    const warnings = captureWarnings(t);
    for (let round = 0; round < 25; round++) {
      warnings.length = 0;
      const path = join(dir, `round${round}`, 'events.bin');
      const maxFileSize = 512;
      const logger = new BinaryLogger(path, { maxFileSize });
      const acked = new SharedArrayBuffer(4 * 4);
      const started = Array.from({ length: 4 }, (_, i) => startWorker(logger.share(), acked, i, { count: 3000, maxLen: 80 }));
      // Wait until every worker has written something, then kill two of
      // them after a random number of further writes.
      for (const s of started) while (s.writer.acked() === 0) await tick();
      for (const victim of [started[0]!, started[1]!]) {
        const target = victim.writer.acked() + Math.floor(random() * 400);
        while (victim.writer.acked() < target && victim.writer.acked() < 3000) await tick();
        victim.writer.inFlight = true;
        await victim.worker.terminate();
      }
      assert.equal(await started[2]!.done, 0);
      assert.equal(await started[3]!.done, 0);
      logger.close();
      const total = checkLog(path, maxFileSize, started.map((s) => s.writer));
      // And the log takes new records after it.
      {
        using again = new BinaryLogger(path, { maxFileSize });
        again.write('after');
      }
      const records = [...readLog(path)];
      assert.equal(records.length, total + 1);
      assert.equal(records.at(-1), 'after');
      // Each victim killed mid-rollover left one rollover to finish, to the
      // thread that took the lock over or to the next open: at most two
      // warnings a round, each saying so about this round's log.
      await tick();
      const seen = allWarnings(warnings, started);
      assert.ok(seen.length <= 2, `round ${round}: ${seen.length} warnings`);
      for (const w of seen) assert.deepEqual(w, ['BINLOG_ROLLOVER_RECOVERED', `Finished an interrupted rollover of "${path}"`], `round ${round}`);
    }
  });
});
