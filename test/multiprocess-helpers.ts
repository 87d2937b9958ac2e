/** Helpers for the multi-process tests: spawn writers, read who wrote what, check the files. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { readLog } from '../src/index.js';
import { HEADER_BYTES, readHeader } from '../src/format.js';
import { listBackups } from '../src/naming.js';
import type { MpWriterConfig } from './fixtures/mp-writer.js';

export const MP_WRITER = new URL('./fixtures/mp-writer.js', import.meta.url).pathname;

export interface Writer {
  child: ChildProcess;
  pid: number;
  lines: string[];
  stderr: string[];
  /** Resolves with the child's pid once its logger is open (or rejects with the open error line). */
  ready: Promise<number>;
  /** Resolves when the child has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Highest count acknowledged so far. */
  acked(): number;
  /** Resolves once a line starting with `prefix` was printed. */
  saw(prefix: string): Promise<string>;
}

export function spawnWriter(config: MpWriterConfig, extra: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}): Writer {
  const child = spawn(process.execPath, [MP_WRITER, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'], ...extra });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters: Array<{ prefix: string; resolve: (line: string) => void }> = [];
  let acked = 0;
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      if (line.startsWith('ack ')) acked = Number(line.slice(4));
      for (const w of waiters.splice(0)) {
        if (line.startsWith(w.prefix)) w.resolve(line);
        else waiters.push(w);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const saw = (prefix: string): Promise<string> => {
    const found = lines.find((l) => l.startsWith(prefix));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      waiters.push({ prefix, resolve });
      void exited.then(() => {
        const late = lines.find((l) => l.startsWith(prefix));
        if (late) resolve(late);
        else reject(new Error(`child ${config.name} exited without "${prefix}": ${lines.join(' | ')} ${stderr.join('')}`));
      });
    });
  };
  const ready = Promise.race([
    saw('ready ').then((l) => Number(l.slice(6))),
    saw('open-error ').then((l) => Promise.reject(new Error(l))),
  ]);
  ready.catch(() => undefined);
  return { child, pid: child.pid!, lines, stderr, ready, exited, acked: () => acked, saw };
}

/** Indices of each writer's records in the log, in file order. */
export function recordsByWriter(path: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const record of readLog(path)) {
    const [name, index] = record.split(':');
    const list = out.get(name!) ?? [];
    list.push(Number(index));
    out.set(name!, list);
  }
  return out;
}

/**
 * Every record of `name` below `count` appears, first occurrences in
 * increasing order; repeats (a resend after an owner died) only if
 * `allowRepeats`. Returns the distinct indices.
 */
export function assertWriterRecords(seen: number[] | undefined, name: string, count: number, allowRepeats: boolean, mustHave = count): number {
  const list = seen ?? [];
  const first = new Set<number>();
  let last = -1;
  for (const i of list) {
    assert.ok(i >= 0 && i < count, `${name}: index ${i} out of range`);
    if (first.has(i)) {
      assert.ok(allowRepeats, `${name}: record ${i} appears twice`);
      continue;
    }
    assert.ok(i > last, `${name}: record ${i} after ${last}: out of order`);
    first.add(i);
    last = i;
  }
  for (let i = 0; i < mustHave; i++) assert.ok(first.has(i), `${name}: acknowledged record ${i} missing`);
  return first.size;
}

/**
 * The rollover rule on disk: every backup reached maxFileSize at its last
 * record and not before; the current file is below it; no temp file.
 * Returns the seqs of the backups.
 */
export function assertRolloverRule(path: string, maxFileSize: number): number[] {
  const backups = listBackups(path);
  for (const backup of backups) {
    if (backup.gzip) continue;
    const buf = readFileSync(backup.path);
    let pos = 0;
    let lastStart = 0;
    while (pos < buf.length) {
      lastStart = pos;
      pos += HEADER_BYTES + readHeader(buf, pos);
    }
    assert.equal(pos, buf.length, `backup ${backup.seq} ends in a whole record`);
    assert.ok(buf.length >= maxFileSize, `backup ${backup.seq} (${buf.length} bytes) reached maxFileSize`);
    assert.ok(lastStart < maxFileSize, `backup ${backup.seq} reached maxFileSize before its last record`);
  }
  const current = readFileSync(path);
  assert.ok(current.length < maxFileSize, `current file (${current.length} bytes) below maxFileSize`);
  assert.ok(!readdirSync(dirname(path)).some((n) => n.endsWith('.next')), 'no rollover temp file left');
  return backups.map((b) => b.seq);
}
