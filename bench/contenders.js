// The contenders. Each one is prepared outside the timed region (open the
// file, wait for an async 'ready', start worker threads) and returns a run()
// that is timed from before its first write to after its final flush/close
// (for async writers: after 'close', i.e. after every byte was written).
//
// Writers get ctx = { payloads, dir, maxFileSize } and write into ctx.dir:
// binary logs as log.bin with backups log.<seq>.bin (the layout ours uses,
// so one checker reads every binary contender's output), text lines as
// log.txt. maxFileSize is Infinity for the workloads without rollover.
//
// Readers get ctx = { input } (a binary log) and return, from an untimed
// check(), the count, payload bytes and digest of what they yielded.

import { once } from 'node:events';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import SonicBoom from 'sonic-boom';
import { BinaryLogger, openCursor, readLog } from '../dist/index.js';
import { FrameHasher } from './payloads.js';

const CHUNK = 1 << 20;
/** maxFileSize for our logger when a workload does not roll over. */
const NO_ROLLOVER = Number.MAX_SAFE_INTEGER;

export const logPath = (dir) => join(dir, 'log.bin');
export const textPath = (dir) => join(dir, 'log.txt');
/** Backup names as ours makes them: log.bin -> log.<seq>.bin. */
const backupOf = (dir, seq) => join(dir, `log.${seq}.bin`);

function writeAll(fd, buf, length) {
  let done = 0;
  while (done < length) done += writeSync(fd, buf, done, length - done);
}

// ------------------------------------------------------------------ ceiling

/**
 * The ceiling: frame every record into one reused 1 MiB buffer and write it
 * in 1 MiB chunks, tracking the file size in a variable. With a finite
 * maxFileSize it also rolls over at the same record boundaries as ours
 * (after the record that makes the file reach the limit), by renameSync.
 */
function ceiling({ payloads, dir, maxFileSize }, { fsyncAtEnd = false } = {}) {
  const path = logPath(dir);
  return {
    run() {
      const buf = Buffer.allocUnsafeSlow(CHUNK);
      let fd = openSync(path, 'a');
      let used = 0;
      let fileSize = 0;
      let seq = 0;
      for (let i = 0; i < payloads.length; i++) {
        const p = payloads[i];
        if (used + 4 + p.length * 3 > CHUNK) {
          writeAll(fd, buf, used);
          fileSize += used;
          used = 0;
        }
        const n = buf.write(p, used + 4);
        buf[used] = n >>> 24;
        buf[used + 1] = (n >>> 16) & 0xff;
        buf[used + 2] = (n >>> 8) & 0xff;
        buf[used + 3] = n & 0xff;
        used += 4 + n;
        if (fileSize + used >= maxFileSize) {
          writeAll(fd, buf, used);
          used = 0;
          fileSize = 0;
          closeSync(fd);
          renameSync(path, backupOf(dir, seq++));
          fd = openSync(path, 'a');
        }
      }
      if (used > 0) writeAll(fd, buf, used);
      if (fsyncAtEnd) fdatasyncSync(fd);
      closeSync(fd);
    },
  };
}

// --------------------------------------------------------------------- ours

function ours(durability) {
  return ({ payloads, dir, maxFileSize }) => {
    const logger = new BinaryLogger(logPath(dir), {
      maxFileSize: maxFileSize === Infinity ? NO_ROLLOVER : maxFileSize,
      durability,
    });
    return {
      run() {
        for (let i = 0; i < payloads.length; i++) logger.write(payloads[i]);
        logger.close();
      },
    };
  };
}

// -------------------------------------------------------------- naive port

/**
 * The straightforward port of the Python original: per record, a fresh
 * Buffer (Buffer.alloc) holding length + payload, one fs.writeSync, the
 * file size tracked in a variable (like file.tell(), no fstat), and
 * rollover by closeSync + renameSync + openSync.
 */
function naive({ payloads, dir, maxFileSize }, { fsyncEach = false } = {}) {
  const path = logPath(dir);
  return {
    run() {
      let fd = openSync(path, 'a');
      let size = 0;
      let seq = 0;
      for (let i = 0; i < payloads.length; i++) {
        const p = payloads[i];
        const n = Buffer.byteLength(p);
        const rec = Buffer.alloc(4 + n);
        rec.writeUInt32BE(n, 0);
        rec.write(p, 4);
        writeSync(fd, rec);
        if (fsyncEach) fdatasyncSync(fd);
        size += rec.length;
        if (size >= maxFileSize) {
          closeSync(fd);
          renameSync(path, backupOf(dir, seq++));
          fd = openSync(path, 'a');
          size = 0;
        }
      }
      closeSync(fd);
    },
  };
}

// --------------------------------------------------------------- sonic-boom

function sonic(opts) {
  return async ({ payloads, dir }) => {
    const sb = new SonicBoom({ dest: textPath(dir), ...opts });
    await once(sb, 'ready');
    return {
      async run() {
        for (let i = 0; i < payloads.length; i++) sb.write(payloads[i] + '\n');
        const closed = once(sb, 'close');
        sb.end();
        await closed;
      },
    };
  };
}

// --------------------------------------------------------------------- pino

function pinoTo(opts) {
  return async ({ payloads, dir }) => {
    const dest = pino.destination({ dest: textPath(dir), ...opts });
    await once(dest, 'ready');
    const logger = pino(dest);
    return {
      async run() {
        for (let i = 0; i < payloads.length; i++) logger.info(payloads[i]);
        const closed = once(dest, 'close');
        dest.end();
        await closed;
      },
    };
  };
}

// --------------------------------------------------------------- T1 threads

const WORKER_URL = new URL('./workers.js', import.meta.url);

/**
 * How many times each T1 thread writes its share, by durability: enough that
 * the timed phase of one thread lasts about half a second or more ('sync'
 * pays a write(2) per record; 'buffered' writes 1M records in ~60 ms).
 */
export const T1_PASSES = { buffered: 8, sync: 1 };
/** Records each T1 thread writes into the scratch log before the barrier, by durability. */
const T1_WARMUP = { buffered: 100_000, sync: 20_000 };

/**
 * T1, steady-state throughput of writer threads: the owner (this thread)
 * opens the log and a scratch log and shares both; `threads` worker threads
 * each attach, warm up on the scratch log (all at once, so the shared path
 * is warm too), and wait at a barrier (an Atomics word). run() opens the
 * barrier; the clock stops when the last thread has written its share
 * `passes` times and flushed. Starting threads, warming up and detaching
 * are not timed.
 */
function threaded(durability, threads) {
  return async ({ dir, workload, input, count, cpuProf }) => {
    const owner = new BinaryLogger(logPath(dir), { maxFileSize: NO_ROLLOVER, durability });
    const scratchDir = mkdtempSync(join(tmpdir(), 'binlog-t1-warmup-'));
    const scratch = new BinaryLogger(logPath(scratchDir), { maxFileSize: NO_ROLLOVER, durability });
    const handle = owner.share();
    const scratchHandle = scratch.share();
    const barrier = new SharedArrayBuffer(4);
    const workers = [];
    for (let t = 0; t < threads; t++) {
      const lo = Math.floor((count * t) / threads);
      const hi = Math.floor((count * (t + 1)) / threads);
      // --cpu-prof: each worker writes its own profile (of its whole life) on exit.
      const execArgv = cpuProf
        ? ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', cpuProf.dir, '--cpu-prof-name', `${cpuProf.name}-worker${t}.cpuprofile`]
        : undefined;
      const data = { handle, scratch: scratchHandle, barrier, workload, input, lo, hi, passes: T1_PASSES[durability], warmup: T1_WARMUP[durability] };
      const w = new Worker(WORKER_URL, { workerData: data, execArgv });
      w.on('error', (err) => {
        console.error(err);
        process.exit(3);
      });
      workers.push(w);
    }
    await Promise.all(workers.map((w) => once(w, 'message')));
    scratch.close();
    rmSync(scratchDir, { recursive: true, force: true });
    return {
      async run() {
        const done = workers.map((w) => once(w, 'message'));
        const go = new Int32Array(barrier);
        Atomics.store(go, 0, 1);
        Atomics.notify(go, 0);
        await Promise.all(done);
      },
      async cleanup() {
        const closed = workers.map((w) => once(w, 'message'));
        for (const w of workers) w.postMessage('close');
        await Promise.all(closed);
        owner.close();
        await Promise.all(workers.map((w) => w.terminate()));
      },
    };
  };
}

// ------------------------------------------------------------------ readers

/** Parse a whole log file held in memory: count, payload bytes, digest. */
function checkFramed(buf) {
  let at = 0;
  let count = 0;
  let bytes = 0;
  while (at + 4 <= buf.length) {
    const n = buf.readUInt32BE(at);
    if (at + 4 + n > buf.length) break;
    at += 4 + n;
    bytes += n;
    count++;
  }
  const h = new FrameHasher();
  h.addFramed(buf.subarray(0, at), count, bytes);
  return { count, bytes, digest: h.digest() };
}

function readFileAlone({ input }) {
  return {
    run() {
      const buf = readFileSync(input);
      return buf.length;
    },
    check() {
      return checkFramed(readFileSync(input));
    },
  };
}

/** readFileSync, then walk the records decoding each payload to a string: what any utf8 reader pays. */
function readFileDecode({ input }) {
  const decodeAll = (onRecord) => {
    const buf = readFileSync(input);
    let at = 0;
    while (at + 4 <= buf.length) {
      const n = buf.readUInt32BE(at);
      if (at + 4 + n > buf.length) break;
      onRecord(buf.toString('utf8', at + 4, at + 4 + n));
      at += 4 + n;
    }
  };
  return {
    run() {
      let count = 0;
      let chars = 0;
      decodeAll((s) => {
        count++;
        chars += s.length;
      });
      return { count, chars };
    },
    check() {
      const h = new FrameHasher();
      decodeAll((s) => h.addString(s));
      return { count: h.count, bytes: h.bytes, digest: h.digest() };
    },
  };
}

function readLogContender(encoding) {
  return ({ input }) => ({
    run() {
      let count = 0;
      let size = 0;
      for (const r of readLog(input, { encoding })) {
        count++;
        size += r.length;
      }
      return { count, size };
    },
    check() {
      const h = new FrameHasher();
      if (encoding === 'buffer') for (const b of readLog(input, { encoding })) h.addBytes(b);
      else for (const s of readLog(input, { encoding })) h.addString(s);
      return { count: h.count, bytes: h.bytes, digest: h.digest() };
    },
  });
}

/** openCursor(): count the records and sum their payload bytes, never making an object per record (issue 13, item 3). */
function cursorContender({ input }) {
  return {
    run() {
      let count = 0;
      let size = 0;
      const cursor = openCursor(input);
      while (cursor.next()) {
        count++;
        size += cursor.length;
      }
      cursor.close();
      return { count, size };
    },
    check() {
      const h = new FrameHasher();
      const cursor = openCursor(input);
      while (cursor.next()) h.addBytes(cursor.payload());
      cursor.close();
      return { count: h.count, bytes: h.bytes, digest: h.digest() };
    },
  };
}

/** The naive reader, as the Python original reads: two reads per record (length, then payload), decode each. */
function naiveReader({ input }) {
  const readAll = (onRecord) => {
    const fd = openSync(input, 'r');
    const head = Buffer.alloc(4);
    let pos = 0;
    try {
      for (;;) {
        if (readSync(fd, head, 0, 4, pos) < 4) break;
        const n = head.readUInt32BE(0);
        const body = Buffer.alloc(n);
        if (readSync(fd, body, 0, n, pos + 4) < n) break;
        pos += 4 + n;
        onRecord(body.toString('utf8'));
      }
    } finally {
      closeSync(fd);
    }
  };
  return {
    run() {
      let count = 0;
      readAll(() => count++);
      return count;
    },
    check() {
      const h = new FrameHasher();
      readAll((s) => h.addString(s));
      return { count: h.count, bytes: h.bytes, digest: h.digest() };
    },
  };
}

// ------------------------------------------------------------------ registry

/**
 * family: which reference it is ('ceiling', 'naive', 'sonic' for "sonic-boom's
 * best"), or 'ours' / 'pino' / 'reader'. output: how the parent checks what
 * it wrote ('binary', 'lines', 'pino'), or 'self' (a reader checks itself).
 */
export const CONTENDERS = {
  ceiling: { label: 'ceiling (1 MiB chunks)', family: 'ceiling', output: 'binary', rolls: true, prepare: (c) => ceiling(c) },
  'ours-sync': { label: "ours 'sync'", family: 'ours', output: 'binary', rolls: true, prepare: ours('sync') },
  'ours-buffered': { label: "ours 'buffered'", family: 'ours', output: 'binary', rolls: true, prepare: ours('buffered') },
  naive: { label: 'naive port', family: 'naive', output: 'binary', rolls: true, prepare: (c) => naive(c) },
  'sonic-sync': { label: 'sonic-boom sync', family: 'sonic', output: 'lines', prepare: sonic({ sync: true }) },
  'sonic-async': { label: 'sonic-boom async', family: 'sonic', output: 'lines', prepare: sonic({ sync: false }) },
  'sonic-async-4k': {
    label: 'sonic-boom async minLength 4096',
    family: 'sonic',
    output: 'lines',
    prepare: sonic({ sync: false, minLength: 4096 }),
  },
  'pino-sync': { label: 'pino, destination sync', family: 'pino', output: 'pino', prepare: pinoTo({ sync: true }) },
  'pino-async-4k': {
    label: 'pino, destination async minLength 4096',
    family: 'pino',
    output: 'pino',
    prepare: pinoTo({ sync: false, minLength: 4096 }),
  },

  // F1: the durable modes, on a reduced count.
  'ceiling-fsync': {
    label: 'ceiling + 1 fdatasync at end',
    family: 'ceiling',
    output: 'binary',
    prepare: (c) => ceiling(c, { fsyncAtEnd: true }),
  },
  'ours-fsync': { label: "ours 'fsync'", family: 'ours', output: 'binary', prepare: ours('fsync') },
  'ours-buffered-fsync': { label: "ours 'buffered-fsync'", family: 'ours', output: 'binary', prepare: ours('buffered-fsync') },
  'naive-fsync': {
    label: 'naive port + fdatasync per record',
    family: 'naive',
    output: 'binary',
    prepare: (c) => naive(c, { fsyncEach: true }),
  },
  'sonic-sync-fsync': {
    label: 'sonic-boom sync, fsync: true',
    family: 'sonic',
    output: 'lines',
    prepare: sonic({ sync: true, fsync: true }),
  },

  // R1: reading W1's log back.
  'read-file': { label: 'readFileSync alone (ceiling)', family: 'ceiling', output: 'self', prepare: readFileAlone },
  'read-file-decode': { label: 'readFileSync + toString per record', family: 'reader', output: 'self', prepare: readFileDecode },
  'readlog-utf8': { label: "ours readLog 'utf8'", family: 'ours', output: 'self', prepare: readLogContender('utf8') },
  'readlog-buffer': { label: "ours readLog 'buffer'", family: 'ours', output: 'self', prepare: readLogContender('buffer') },
  'cursor-count': { label: 'ours openCursor, count and sum lengths', family: 'ours', output: 'self', prepare: cursorContender },
  'naive-read': { label: 'naive reader (2 readSync per record)', family: 'naive', output: 'self', prepare: naiveReader },
};

// T1: ours in worker threads.
for (const durability of ['buffered', 'sync']) {
  for (const threads of [1, 2, 4, 8]) {
    CONTENDERS[`t${threads}-${durability}`] = {
      label: `ours '${durability}', ${threads} thread${threads > 1 ? 's' : ''}`,
      family: 'ours',
      output: 'threads',
      threads,
      durability,
      passes: T1_PASSES[durability],
      prepare: threaded(durability, threads),
    };
  }
}
