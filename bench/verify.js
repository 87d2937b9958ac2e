// Checks what a writer left in its directory, by reading it back in the
// parent, independently of the code under test (no readLog here): the
// number of records, and the digest of their payloads in order (see
// payloads.js), plus, for binary logs, the file layout and the rollover
// boundaries. A contender whose output fails is marked FAIL.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FrameHasher } from './payloads.js';

const BACKUP = /^log\.(0|[1-9]\d*)\.bin$/;

/**
 * A binary log: log.bin and backups log.<seq>.bin with seq 0, 1, 2, ...
 * and nothing else. Every file holds whole records only. With a finite
 * maxFileSize, every backup reached the limit with its last record (and not
 * before it), and the current file is below it; without one, no backups.
 */
export function checkBinaryLog(dir, maxFileSize) {
  const names = readdirSync(dir);
  const seqs = [];
  for (const name of names) {
    if (name === 'log.bin') continue;
    const m = BACKUP.exec(name);
    if (!m) return { ok: false, error: `unexpected file ${name}` };
    seqs.push(Number(m[1]));
  }
  if (!names.includes('log.bin')) return { ok: false, error: 'no current file log.bin' };
  seqs.sort((a, b) => a - b);
  for (let i = 0; i < seqs.length; i++) {
    if (seqs[i] !== i) return { ok: false, error: `backups not numbered 0..${seqs.length - 1} (found ${seqs[i]})` };
  }
  if (maxFileSize === Infinity && seqs.length > 0) return { ok: false, error: `${seqs.length} backups without rollover` };

  const files = [...seqs.map((s) => `log.${s}.bin`), 'log.bin'];
  const h = new FrameHasher();
  let outBytes = 0;
  for (let f = 0; f < files.length; f++) {
    const buf = readFileSync(join(dir, files[f]));
    outBytes += buf.length;
    let at = 0;
    let count = 0;
    let bytes = 0;
    let last = 0;
    while (at + 4 <= buf.length) {
      const n = buf.readUInt32BE(at);
      if (at + 4 + n > buf.length) break;
      last = 4 + n;
      at += last;
      bytes += n;
      count++;
    }
    if (at !== buf.length) return { ok: false, error: `${files[f]}: ${buf.length - at} bytes past the last whole record` };
    h.addFramed(buf, count, bytes);
    const isBackup = f < files.length - 1;
    if (maxFileSize !== Infinity) {
      if (isBackup && (buf.length < maxFileSize || buf.length - last >= maxFileSize)) {
        return { ok: false, error: `${files[f]}: ${buf.length} bytes, not rolled over at the record that reached ${maxFileSize}` };
      }
      if (!isBackup && buf.length >= maxFileSize) return { ok: false, error: `log.bin: ${buf.length} bytes, reached the limit without rollover` };
    }
  }
  return { ok: true, count: h.count, bytes: h.bytes, digest: h.digest(), outBytes, files: files.length };
}

/** Text lines (sonic-boom): one payload per line, each ending in '\n'. */
export function checkLines(path) {
  const buf = readFileSync(path);
  const h = new FrameHasher();
  let at = 0;
  while (at < buf.length) {
    const nl = buf.indexOf(10, at);
    if (nl < 0) return { ok: false, error: `${buf.length - at} bytes after the last newline` };
    h.addBytes(buf, at, nl);
    at = nl + 1;
  }
  return { ok: true, count: h.count, bytes: h.bytes, digest: h.digest(), outBytes: buf.length, files: 1 };
}

/** pino's NDJSON: one JSON object per line, level 30, the payload as msg. */
export function checkPino(path) {
  const buf = readFileSync(path);
  const h = new FrameHasher();
  let at = 0;
  let line = 0;
  while (at < buf.length) {
    const nl = buf.indexOf(10, at);
    if (nl < 0) return { ok: false, error: `${buf.length - at} bytes after the last newline` };
    let obj;
    try {
      obj = JSON.parse(buf.toString('utf8', at, nl));
    } catch (err) {
      return { ok: false, error: `line ${line + 1}: ${err.message}` };
    }
    if (obj.level !== 30 || typeof obj.msg !== 'string') return { ok: false, error: `line ${line + 1}: not an info line with a msg` };
    h.addString(obj.msg);
    at = nl + 1;
    line++;
  }
  return { ok: true, count: h.count, bytes: h.bytes, digest: h.digest(), outBytes: buf.length, files: 1 };
}

/**
 * T1: records of several threads interleave, so there is no one expected
 * order. Thread t wrote records [lo_t, hi_t) in order, `passes` times over;
 * check that the log holds each thread's records in its order, byte for
 * byte (against the expected frames), and nothing else.
 */
export function checkThreads(dir, frames, count, threads, passes = 1) {
  const names = readdirSync(dir);
  if (names.length !== 1 || names[0] !== 'log.bin') return { ok: false, error: `expected only log.bin, found ${names.join(', ')}` };
  const buf = readFileSync(join(dir, 'log.bin'));
  const next = [];
  const end = [];
  const start = [];
  const left = []; // passes still to come after the current one, per thread
  for (let t = 0; t < threads; t++) {
    start.push(Math.floor((count * t) / threads));
    next.push(start[t]);
    end.push(Math.floor((count * (t + 1)) / threads));
    left.push(passes - 1);
  }
  const { buf: want, offsets } = frames;
  let at = 0;
  let records = 0;
  let bytes = 0;
  while (at < buf.length) {
    if (at + 4 > buf.length) return { ok: false, error: `torn header at byte ${at}` };
    const len = 4 + buf.readUInt32BE(at);
    if (at + len > buf.length) return { ok: false, error: `torn record at byte ${at}` };
    let matched = -1;
    for (let t = 0; t < threads; t++) {
      const i = next[t];
      if (i >= end[t]) continue;
      if (offsets[i + 1] - offsets[i] === len && want.compare(buf, at, at + len, offsets[i], offsets[i + 1]) === 0) {
        matched = t;
        break;
      }
    }
    if (matched < 0) return { ok: false, error: `record ${records} (byte ${at}) is not the next record of any thread` };
    if (++next[matched] === end[matched] && left[matched] > 0) {
      left[matched]--;
      next[matched] = start[matched];
    }
    records++;
    bytes += len - 4;
    at += len;
  }
  for (let t = 0; t < threads; t++) {
    if (next[t] !== end[t] || left[t] !== 0) return { ok: false, error: `thread ${t}: ${end[t] - next[t] + left[t] * (end[t] - start[t])} records missing` };
  }
  return { ok: true, count: records, bytes, outBytes: buf.length, files: 1, ordered: true };
}
