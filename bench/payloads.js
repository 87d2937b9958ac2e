// Deterministic payloads for the benchmark workloads, and what a correct
// output must digest to.
//
// Every payload is a pure function of (workload, index), so the parent, the
// contender child and each T1 worker thread build exactly the same records
// without passing them around. Nothing here is timed.
//
// The digest of a sequence of records is sha256 over their frames in order,
// a frame being [4-byte big-endian UTF-8 length][UTF-8 payload] -- which is
// exactly the byte stream of a binary log, so a binary log's digest is the
// sha256 of its files concatenated in reading order.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Record counts of the full run (--quick divides by 10). */
export const FULL_COUNTS = {
  W1: 1_000_000,
  W2: 100_000,
  W3: 1_000_000,
  W4: 200_000,
  R1: 1_000_000,
  T1: 1_000_000,
  F1: 5_000,
};

/** Which payload generator each workload uses. */
export const PAYLOAD_KIND = { W1: 'ascii61', W2: 'kib', W3: 'ascii61', W4: 'mixed', R1: 'ascii61', T1: 'ascii61', F1: 'ascii61' };

/** A 32-bit integer hash of (i, salt): a stateless PRNG. */
function hash32(i, salt) {
  let h = Math.imul(i ^ salt, 0x9e3779b1) ^ 0x85ebca6b;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

const ACTIONS = ['login', 'logout', 'view', 'click', 'purchase', 'search', 'update', 'delete', 'share', 'upload'];
const PAD = '................................................................';

/** W1: `event <i> user=u<n> action=<verb> sid=<base36>` padded or cut to exactly 61 ASCII bytes. */
export function ascii61(i) {
  const a = hash32(i, 1);
  const b = hash32(i, 2);
  const s = `event ${i} user=u${a % 100000} action=${ACTIONS[b % ACTIONS.length]} sid=${b.toString(36)}${a.toString(36)}`;
  return s.length >= 61 ? s.slice(0, 61) : s + PAD.slice(0, 61 - s.length);
}

// W2: 1 KiB windows of one 1 MiB (+1 KiB) random printable-ASCII string, at
// offsets (i * 4099) mod 2^20: 100,000 distinct payloads that share one
// backing string (V8 sliced strings), so the input takes ~4 MB of heap
// instead of ~100 MB and the peak RSS shows the writer, not the input.
let bigAscii;
function bigString() {
  if (bigAscii === undefined) {
    const n = (1 << 20) + 1024;
    const buf = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) buf[i] = 0x21 + (hash32(i, 3) % 94); // '!'..'~', no newline or space
    bigAscii = buf.toString('latin1');
  }
  return bigAscii;
}
export function kib(i) {
  const off = Math.imul(i, 4099) & 0xfffff;
  return bigString().slice(off, off + 1024);
}

const LATIN1 = ['café', 'naïve', 'über', 'señor', 'façade', 'crème brûlée', 'Ångström', 'déjà vu', 'smørrebrød', 'garçon', '£12.50', '±3°C'];
const CJK = ['東京', '日本語', '中文字符', '한국어', '漢字テスト', '北京市', 'ログ記録', '서울특별시', '繁體中文', 'データ'];
const EMOJI = ['🎉', '👍', '🚀', '😀', '🔥', '👩‍💻', '🇯🇵', '✅', '💾', '🧪'];
const MIXED_POOLS = [LATIN1, CJK, EMOJI];

/** W4: `<i>` then 4 to 11 words drawn from Latin-1, CJK and emoji pools (~60-90 UTF-8 bytes). */
export function mixed(i) {
  const h = hash32(i, 4);
  const words = 4 + (h % 8);
  let s = String(i);
  for (let k = 0; k < words; k++) {
    const r = hash32(i, 100 + k);
    const pool = MIXED_POOLS[r % 3];
    s += ' ' + pool[(r >>> 8) % pool.length];
  }
  return s;
}

const GENERATORS = { ascii61, kib, mixed };

/** The generator for a workload. */
export function generatorFor(workload) {
  return GENERATORS[PAYLOAD_KIND[workload]];
}

/** Payloads [lo, hi) of a workload as an array of strings. */
export function makePayloads(workload, lo, hi) {
  const gen = generatorFor(workload);
  const out = new Array(hi - lo);
  for (let i = lo; i < hi; i++) out[i - lo] = gen(i);
  return out;
}

/**
 * All frames of a workload's records [0, count) in index order, in one
 * buffer, with the offset of each frame: `offsets[i]` to `offsets[i + 1]`
 * is frame i.
 */
export function framesOf(workload, count) {
  const gen = generatorFor(workload);
  let buf = Buffer.allocUnsafe(Math.max(1024, count * 80));
  const offsets = new Float64Array(count + 1);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const s = gen(i);
    if (at + 4 + s.length * 3 > buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, at + 4 + s.length * 3));
      buf.copy(bigger, 0, 0, at);
      buf = bigger;
    }
    offsets[i] = at;
    const n = buf.write(s, at + 4);
    buf.writeUInt32BE(n, at);
    at += 4 + n;
  }
  offsets[count] = at;
  return { buf: buf.subarray(0, at), offsets };
}

/** sha256 of bytes, hex. */
export function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Payloads [lo, hi) as flat strings, decoded from a file of frames that
 * the parent wrote (`framesOf`), which is much faster than generating them
 * again in every child. Workloads whose payloads are slices of one shared
 * string (W2) are generated instead, to keep them shared.
 */
export function loadPayloads(workload, inputPath, lo, hi) {
  if (PAYLOAD_KIND[workload] === 'kib' || !inputPath) return makePayloads(workload, lo, hi);
  let buf = readFileSync(inputPath);
  const out = new Array(hi - lo);
  let at = 0;
  for (let i = 0; i < hi; i++) {
    const n = buf.readUInt32BE(at);
    if (i >= lo) out[i - lo] = buf.toString('utf8', at + 4, at + 4 + n);
    at += 4 + n;
  }
  buf = undefined;
  return out;
}

/**
 * Hashes records into the canonical digest, batching frames so that a
 * million records cost a few hundred hash.update() calls.
 */
export class FrameHasher {
  constructor() {
    this.hash = createHash('sha256');
    this.batch = Buffer.allocUnsafe(1 << 20);
    this.used = 0;
    this.count = 0;
    this.bytes = 0;
  }

  /** Add a record whose payload is the string `s` (UTF-8). */
  addString(s) {
    if (this.used + 4 + s.length * 3 > this.batch.length) this.#drain();
    if (4 + s.length * 3 > this.batch.length) return this.addBytes(Buffer.from(s, 'utf8'));
    const n = this.batch.write(s, this.used + 4);
    this.batch.writeUInt32BE(n, this.used);
    this.used += 4 + n;
    this.count++;
    this.bytes += n;
  }

  /** Add a record whose payload is `b[start, end)`. */
  addBytes(b, start = 0, end = b.length) {
    const n = end - start;
    if (this.used + 4 + n > this.batch.length) this.#drain();
    if (4 + n > this.batch.length) {
      const head = Buffer.allocUnsafe(4);
      head.writeUInt32BE(n, 0);
      this.hash.update(head);
      this.hash.update(b.subarray(start, end));
    } else {
      this.batch.writeUInt32BE(n, this.used);
      b.copy(this.batch, this.used + 4, start, end);
      this.used += 4 + n;
    }
    this.count++;
    this.bytes += n;
  }

  /** Add raw, already framed bytes holding `records` records of `payloadBytes` payload bytes. */
  addFramed(b, records, payloadBytes) {
    this.#drain();
    this.hash.update(b);
    this.count += records;
    this.bytes += payloadBytes;
  }

  #drain() {
    if (this.used > 0) this.hash.update(this.batch.subarray(0, this.used));
    this.used = 0;
  }

  digest() {
    this.#drain();
    return this.hash.digest('hex');
  }
}

/** Count, payload bytes and digest of the first `count` records of a workload. */
export function expectedOf(workload, count) {
  const gen = generatorFor(workload);
  const h = new FrameHasher();
  for (let i = 0; i < count; i++) h.addString(gen(i));
  return { count: h.count, bytes: h.bytes, digest: h.digest() };
}
