/** Shared test helpers: a temp dir per test, byte surgery, file listings. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** A fresh temp dir, removed when the test ends. */
export function tempDir(t: TestContext | { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'binlog-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Names and sizes of the files in `dir`, sorted by name. */
export function listFiles(dir: string): Array<{ name: string; size: number }> {
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, size: statSync(join(dir, name)).size }));
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

/** Frame payloads the way the format says, for building files by hand. */
export function frame(...payloads: Array<string | Uint8Array>): Buffer {
  const parts: Buffer[] = [];
  for (const p of payloads) {
    const body = typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    parts.push(head, body);
  }
  return Buffer.concat(parts);
}

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

/** Tests run from the repository root (npm test does). */
export const REPO_ROOT = process.cwd();

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

/** A process warning as a listener receives it. */
export type Warning = Error & { code?: string; detail?: string };

/**
 * Collect the process warnings emitted while the test runs, and keep them
 * off stderr: Node's own printer is taken off 'warning' until the test
 * ends, so an expected warning is asserted, never printed.
 */
export function captureWarnings(t: { after(fn: () => void): void }): Warning[] {
  const seen: Warning[] = [];
  const listener = (w: Warning): void => {
    seen.push(w);
  };
  const printers = process.listeners('warning');
  for (const p of printers) process.off('warning', p);
  process.on('warning', listener);
  t.after(() => {
    process.off('warning', listener);
    for (const p of printers) process.on('warning', p);
  });
  return seen;
}
