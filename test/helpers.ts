/**
 * Shared test helpers, one copy each: temp dirs, byte surgery and frame
 * builders, listings and snapshots of a log's directory, draining an
 * iterator, warnings (captured, asserted, never printed) and the CLI.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorruptLogError } from '../src/index.js';
import { backupPath, splitName } from '../src/naming.js';

/** What tempDir() and the warning helpers need of a test: a cleanup hook. */
export type HasAfter = { after(fn: () => unknown): void };

/** A fresh temp dir, removed when the test ends. */
export function tempDir(t: HasAfter): string {
  const dir = mkdtempSync(join(tmpdir(), 'binlog-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Tests run from the repository root (npm test does). */
export const REPO_ROOT = process.cwd();

// ------------------------------------------------------------ bytes

/** A 4-byte big-endian record header declaring `length`. */
export function header(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(length);
  return b;
}

/** Frame payloads the way the format says, for building files by hand. */
export function frame(...payloads: Array<string | Uint8Array>): Buffer {
  const parts: Buffer[] = [];
  for (const p of payloads) {
    const body = typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p);
    parts.push(header(body.length), body);
  }
  return Buffer.concat(parts);
}

/** A 50-character payload: 54 bytes on disk, as in SPEC.md's example. */
export function fifty(i: number): string {
  return `record ${i} `.padEnd(50, '.');
}

/** fifty(from) .. fifty(to - 1). */
export function fifties(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => fifty(from + i));
}

/** Cut `bytes` off the end of a file. */
export function truncateBy(path: string, bytes: number): void {
  truncateSync(path, statSync(path).size - bytes);
}

/** Overwrite one byte of a file. */
export function setByte(path: string, offset: number, value: number): void {
  const buf = readFileSync(path);
  buf[offset] = value;
  writeFileSync(path, buf);
}

/** A small deterministic generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ------------------------------------------------------------ predictions

/**
 * What the rollover rule predicts for `payloads` written with `maxFileSize`:
 * the contents of each backup in order, then of the current file.
 */
export function predictFiles(payloads: Array<string | Uint8Array>, maxFileSize: number): Buffer[] {
  const files: Buffer[][] = [[]];
  let size = 0;
  for (const p of payloads) {
    const rec = frame(p);
    files[files.length - 1]!.push(rec);
    size += rec.length;
    if (size >= maxFileSize) {
      files.push([]);
      size = 0;
    }
  }
  return files.map((parts) => Buffer.concat(parts));
}

/** predictFiles() named: backup and current file names (of `current`, a base name) -> bytes, as filesOf() gives them. */
export function predictNamedFiles(current: string, payloads: Array<string | Uint8Array>, maxFileSize: number): Record<string, Buffer> {
  const predicted = predictFiles(payloads, maxFileSize);
  const out: Record<string, Buffer> = {};
  predicted.forEach((bytes, seq) => {
    out[seq < predicted.length - 1 ? splitName(backupPath(current, seq)).base : current] = bytes;
  });
  return out;
}

// ------------------------------------------------------------ directories

/**
 * While a logger is open, its lock file `.<name>.lock` sits beside the
 * current file (one writer per log); it is not part of the log. Listings
 * taken while a logger is open leave it out with `skipLock`.
 */
export const LOCK_FILE = /^\..+\.lock$/;

/** Which files a listing leaves out. */
export interface ListOptions {
  /** Leave out an open logger's lock file. Defaults to false. */
  skipLock?: boolean;
}

/** Names and sizes of the files in `dir`, sorted by name. */
export function listFiles(dir: string, { skipLock = false }: ListOptions = {}): Array<{ name: string; size: number }> {
  return readdirSync(dir)
    .sort()
    .filter((name) => !(skipLock && LOCK_FILE.test(name)))
    .map((name) => ({ name, size: statSync(join(dir, name)).size }));
}

/** The files directly in `dir`, name -> bytes (to compare with frame() and predictNamedFiles()). */
export function filesOf(dir: string, options: ListOptions = {}): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const { name } of listFiles(dir, options)) out[name] = readFileSync(join(dir, name));
  return out;
}

/**
 * Every file and directory under `dir`, with the bytes of each file (hex):
 * take one before and one after, to show that nothing on disk changed.
 */
export function snapshot(dir: string, options: ListOptions = {}, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    if (options.skipLock && LOCK_FILE.test(name)) continue;
    const path = join(dir, name);
    const rel = prefix + name;
    if (statSync(path).isDirectory()) {
      out[`${rel}/`] = '<dir>';
      Object.assign(out, snapshot(path, options, `${rel}/`));
    } else {
      out[rel] = readFileSync(path).toString('hex');
    }
  }
  return out;
}

/** Open file descriptors of this process, where the OS lists them. */
export function openFds(): number | undefined {
  return existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : undefined;
}

// ------------------------------------------------------------ reading

/** Iterate to the end or the first error: what was yielded (through `keep`, to copy views), and the error. */
export function drain<T, U = T>(source: Iterable<T> | Iterator<T>, keep: (r: T) => U = (r) => r as unknown as U): { records: U[]; error: unknown } {
  const it = Symbol.iterator in source ? source[Symbol.iterator]() : source;
  const records: U[] = [];
  try {
    for (let r = it.next(); !r.done; r = it.next()) records.push(keep(r.value));
  } catch (error) {
    return { records, error };
  }
  return { records, error: undefined };
}

/** Assert `err` is the CorruptLogError the format rules demand. */
export function assertCorrupt(err: unknown, path: string, offset: number, reason?: string): void {
  assert.ok(err instanceof CorruptLogError, `expected CorruptLogError, got ${String(err)}`);
  if (reason !== undefined) assert.equal(err.reason, reason);
  assert.equal(err.name, 'CorruptLogError');
  assert.equal(err.code, 'ERR_LOG_CORRUPT');
  assert.equal(err.path, path);
  assert.equal(err.offset, offset);
  assert.ok(err.message.includes(path), err.message);
  assert.ok(err.message.includes(String(offset)), err.message);
}

export * from './helpers/warnings.js';
export * from './helpers/cli.js';
export * from './helpers/fs.js';
