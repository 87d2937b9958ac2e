/**
 * Issue 5, item 1: the crash loop.
 *
 * Round after round, a child process (test/fixtures/crash-child.ts) writes
 * numbered records into a log as fast as it can, alone or with worker
 * threads sharing the log, with a maxFileSize small enough that rollovers
 * happen every few records; the parent SIGKILLs it at a random moment
 * (a random delay from spawn, so some land while it opens and repairs the
 * log; right after its first acknowledgement; or the child kills itself
 * right after a chosen file-system call, mid-rollover or mid-record).
 *
 * After every round the parent checks the log the kill left behind:
 *   - readLog of the log exactly as the crash left it, and again after
 *     reopening it (new BinaryLogger) on a copy that keeps hard links,
 *     gives every acknowledged record exactly once and in each writer's
 *     order, at most the in-flight ones beyond (ackEvery records, one in the
 *     sync modes), and nothing that is not a record some writer wrote;
 *   - backups are numbered 0..n-1, and no other file is left but the lock;
 *   - after reopening there is no `.events.bin.next`, every file is exactly
 *     what the rollover rule gives for the records, and the reopened logger
 *     appends a record that reads back last.
 * The next round's child then opens the crashed log itself (not the
 * repaired copy), so recovery is killed and recovered too. A chain of
 * rounds shares one log; every few rounds a new chain starts.
 *
 * `npm run test:crash` runs 200 rounds (node build/test/crash/crash-loop.js
 * [rounds] [seed]); test/crash.test.ts runs a short version.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BinaryLogger, readLog, type Durability } from '../../src/index.js';
import { lastWholeRecordEnd } from '../../src/read/records.js';
import { LOCK_TAKE_GRACE_MS } from '../../src/lockfile.js';
import { listBackups } from '../../src/naming.js';
import { collectWarnings } from '../helpers.js';
import { PayloadStream, parseHead, rng, type CrashChildConfig, type DiePoint } from './records.js';

const CHILD = new URL('../fixtures/crash-child.js', import.meta.url).pathname;
const LOG_NAME = 'events.bin';
const TEMP_NAME = '.events.bin.next';
const LOCK_NAME = '.events.bin.lock';
const CLAIM_NAME = /^\.events\.bin\.lock(?:\.[0-9a-f]{16})+$/;
const SET_ASIDE = /^events\.bin\.corrupt-\d+(\.\d+)?$/;

export interface CrashOptions {
  rounds: number;
  durabilities: readonly Durability[];
  /** Worker-thread counts to cycle through (0: the main thread alone). */
  threads: readonly number[];
  seed?: number;
  /** Longest random delay from spawn to the kill, ms. Default 1000 (Node takes a few hundred to start). */
  maxDelayMs?: number;
  /** Longest delay from the first acknowledgement to the kill, ms. Default 250. */
  maxAfterAckMs?: number;
  /** Rounds that share one log (each child opening what the last one's kill left) before a new log. Default 4. */
  chainLength?: number;
  /** Records per writer before it idles. Default 20000. */
  cap?: number;
  /** Where the logs go; a fresh temp dir (removed unless a round failed) by default. */
  dir?: string;
  /** Progress lines; silent by default. */
  log?: (line: string) => void;
}

type KillPlan =
  | { kind: 'delay'; ms: number }
  | { kind: 'first-ack'; ms: number }
  | { kind: 'point'; die: DiePoint };

export interface RoundFailure {
  round: number;
  mode: string;
  kill: string;
  dir: string;
  message: string;
}

export interface ModeStats {
  rounds: number;
  ackedRecords: number;
  /** Records beyond the acknowledged ones that were in the log (in flight when killed). */
  inFlightFound: number;
  kills: Record<string, number>;
  /** What the crash left: torn tails, temp files, link-but-not-rename, full current files. */
  states: Record<string, number>;
  /** Warnings the reopening logger gave, by code. */
  warnings: Record<string, number>;
  failures: number;
}

export interface CrashSummary {
  rounds: number;
  failures: RoundFailure[];
  byMode: Record<string, ModeStats>;
  ms: number;
}

interface RoundInfo {
  round: number;
  writers: number;
  acked: number[];
  /** How many records beyond its ack a writer may have written. */
  slack: number;
  seed: number;
  maxLen: number;
}

interface Chain {
  dir: string;
  path: string;
  durability: Durability;
  threads: number;
  maxFileSize: number;
  rounds: RoundInfo[];
}

function bump(record: Record<string, number>, key: string, by = 1): void {
  record[key] = (record[key] ?? 0) + by;
}

/**
 * Check the records of a log against what the chain's rounds acknowledged.
 * Returns the number of records beyond the acknowledged ones in the last round.
 */
export function checkRecords(records: readonly string[], rounds: readonly RoundInfo[], marker?: string): number {
  let list = records;
  if (marker !== undefined) {
    assert.equal(list.at(-1), marker, 'the record appended after reopening reads back last');
    list = list.slice(0, -1);
  }
  const byKey = new Map(rounds.map((r) => [r.round, r]));
  const streams = new Map<string, PayloadStream>();
  let lastRound = -1;
  for (let i = 0; i < list.length; i++) {
    const record = list[i]!;
    const head = parseHead(record);
    if (!head) assert.fail(`record ${i} is not a record any writer wrote: ${JSON.stringify(record.slice(0, 60))}`);
    const info = byKey.get(head.round);
    if (!info || head.writer >= info.writers) assert.fail(`record ${i} names an unknown round or writer: ${record.slice(0, 40)}`);
    if (head.round < lastRound) assert.fail(`record ${i} of round ${head.round} after a record of round ${lastRound}`);
    lastRound = head.round;
    const key = `${head.round}/${head.writer}`;
    let stream = streams.get(key);
    if (!stream) streams.set(key, (stream = new PayloadStream(info.seed, info.round, head.writer, info.maxLen)));
    const n = stream.n;
    const expected = stream.next();
    if (head.n !== n) assert.fail(`record ${i}: writer ${key} record ${head.n} where record ${n} was due (lost or repeated)`);
    if (record !== expected) assert.fail(`record ${i}: writer ${key} record ${n} is not what was written (torn or garbage)`);
  }
  let beyond = 0;
  for (const info of rounds) {
    for (let w = 0; w < info.writers; w++) {
      const found = streams.get(`${info.round}/${w}`)?.n ?? 0;
      const acked = info.acked[w]!;
      if (found < acked) assert.fail(`round ${info.round} writer ${w}: ${found} records in the log, ${acked} acknowledged`);
      if (found > acked + info.slack) {
        assert.fail(`round ${info.round} writer ${w}: ${found} records, more than ${acked} acknowledged + ${info.slack} in flight`);
      }
      if (info === rounds.at(-1)) beyond += found - acked;
    }
  }
  return beyond;
}

/** The files of the log in `dir`: backups 0..n-1 (asserted), the current file, and what else is there. */
function logFilesOf(dir: string): { backups: string[]; others: string[] } {
  const path = join(dir, LOG_NAME);
  const backups = listBackups(path);
  assert.deepEqual(
    backups.map((b) => b.seq),
    backups.map((_, i) => i),
    'backups numbered 0..n-1',
  );
  const names = new Set(readdirSync(dir));
  for (const b of backups) names.delete(b.path.slice(dir.length + 1));
  names.delete(LOG_NAME);
  // A torn tail cut at open may be set aside as events.bin.corrupt-<offset>[.n].
  for (const n of names) if (SET_ASIDE.test(n)) names.delete(n);
  return { backups: backups.map((b) => b.path), others: [...names].sort() };
}

/** The rollover rule: each file but the last ends at the first record that takes it to maxFileSize. */
function checkFileLayout(dir: string, backups: string[], maxFileSize: number): void {
  const files = [...backups, join(dir, LOG_NAME)];
  for (let i = 0; i < files.length; i++) {
    const bytes = readFileSync(files[i]!);
    let pos = 0;
    while (pos < bytes.length) {
      assert.ok(pos < maxFileSize, `${files[i]} goes on past maxFileSize at byte ${pos}`);
      assert.ok(bytes.length - pos >= 4, `${files[i]} has a partial header at ${pos}`);
      pos += 4 + bytes.readUInt32BE(pos);
    }
    assert.equal(pos, bytes.length, `${files[i]} ends in a partial record`);
    if (i < files.length - 1) assert.ok(pos >= maxFileSize, `backup ${files[i]} is sealed below maxFileSize (${pos} bytes)`);
    else assert.ok(pos < maxFileSize, `the current file is at maxFileSize (${pos} bytes) but was not rolled over`);
  }
}

/** Copy a flat directory, keeping hard links as hard links (a rollover between link and rename). */
function copyDir(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  const seen = new Map<string, string>();
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const st = lstatSync(src);
    if (!st.isFile()) continue;
    const key = `${st.dev}:${st.ino}`;
    const dst = join(to, name);
    const first = seen.get(key);
    if (first) linkSync(first, dst);
    else {
      copyFileSync(src, dst);
      seen.set(key, dst);
    }
  }
}

/** What the kill left behind, before anything repairs it. */
function crashState(dir: string, maxFileSize: number): string[] {
  const states: string[] = [];
  const path = join(dir, LOG_NAME);
  if (existsSync(join(dir, TEMP_NAME))) states.push('temp file left (killed mid-rollover)');
  const current = statSync(path, { throwIfNoEntry: false });
  const backups = listBackups(path);
  const last = backups.at(-1);
  if (current && last) {
    const sealed = statSync(last.path);
    if (sealed.ino === current.ino) states.push('current linked as backup, not replaced (killed between link and rename)');
  }
  if (!current) states.push('no current file');
  else {
    const bytes = readFileSync(path);
    const whole = lastWholeRecordEnd(bytes, 0, bytes.length);
    if (whole < bytes.length) states.push('torn tail');
    if (whole >= maxFileSize) states.push('current file full, not rolled over');
  }
  if (states.length === 0) states.push('clean');
  return states;
}

function randomPlan(random: () => number, durability: Durability, maxDelayMs: number, maxAfterAckMs: number): KillPlan {
  const roll = random();
  if (roll < 0.3) return { kind: 'delay', ms: Math.floor(random() * maxDelayMs) };
  if (roll < 0.65) return { kind: 'first-ack', ms: random() < 0.3 ? 0 : Math.floor(random() * maxAfterAckMs) };
  const methods: Array<DiePoint['method']> = ['writeSync', 'writeSync', 'openSync', 'linkSync', 'renameSync', 'closeSync', 'unlinkSync'];
  if (durability === 'fsync' || durability === 'buffered-fsync') methods.push('fdatasyncSync', 'fsyncSync');
  const method = methods[Math.floor(random() * methods.length)]!;
  const nth = method === 'unlinkSync' ? 1 + Math.floor(random() * 3) : 1 + Math.floor(random() * 60);
  return { kind: 'point', die: { method, nth } };
}

function describePlan(plan: KillPlan): string {
  if (plan.kind === 'delay') return `SIGKILL ${plan.ms} ms after spawn`;
  if (plan.kind === 'first-ack') return `SIGKILL ${plan.ms} ms after the first ack`;
  return `self-SIGKILL after ${plan.die.method} #${plan.die.nth}`;
}

function planKey(plan: KillPlan): string {
  return plan.kind === 'point' ? `after ${plan.die.method}` : plan.kind;
}

function readAcks(ackPath: string, writers: number): number[] {
  const buf = readFileSync(ackPath);
  return Array.from({ length: writers }, (_, w) => buf.readUInt32BE(w * 4));
}

/** Run the child until it dies by SIGKILL; throws if it ends any other way. */
async function runChild(cfg: CrashChildConfig, plan: KillPlan, writers: number): Promise<void> {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(cfg)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 20_000) stderr += s;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  let done = false;
  void exited.then(() => (done = true));
  const kill = (): void => {
    if (!done) child.kill('SIGKILL');
  };
  // Whatever the plan, nothing runs longer than this.
  const backstop = setTimeout(kill, plan.kind === 'point' ? 3000 : 10_000);
  if (plan.kind === 'delay') setTimeout(kill, plan.ms);
  else if (plan.kind === 'first-ack') {
    void (async () => {
      while (!done) {
        if (readAcks(cfg.ackPath, writers).some((n) => n > 0)) {
          if (plan.ms > 0) await new Promise((r) => setTimeout(r, plan.ms));
          return kill();
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
  }
  const { code, signal } = await exited;
  clearTimeout(backstop);
  if (signal !== 'SIGKILL') {
    throw new Error(`the child ended with code ${code} and signal ${signal}, not by SIGKILL:\n${stderr}`);
  }
}

/** Run crash rounds; never throws for a failing round, returns the failures. */
export async function runCrashRounds(options: CrashOptions): Promise<CrashSummary> {
  const started = Date.now();
  const seed = options.seed ?? 1;
  const random = rng(seed);
  const maxDelayMs = options.maxDelayMs ?? 1000;
  const maxAfterAckMs = options.maxAfterAckMs ?? 250;
  const chainLength = options.chainLength ?? 4;
  const cap = options.cap ?? 20_000;
  const log = options.log ?? (() => {});
  const root = options.dir ?? mkdtempSync(join(tmpdir(), 'binlog-crash-'));
  const modes: Array<{ durability: Durability; threads: number }> = [];
  for (const durability of options.durabilities) for (const threads of options.threads) modes.push({ durability, threads });
  const summary: CrashSummary = { rounds: 0, failures: [], byMode: {}, ms: 0 };

  // The reopening logger's warnings are counted, not printed.
  const { seen: warnings, stop: stopCollecting } = collectWarnings();

  let chain: Chain | undefined;
  let chainCount = 0;
  try {
    for (let round = 0; round < options.rounds; round++) {
      if (!chain || chain.rounds.length >= chainLength) {
        const mode = modes[chainCount % modes.length]!;
        const dir = join(root, `chain${chainCount++}`);
        const maxFileSize = [64, 200, 1000, 4096][Math.floor(random() * 4)]!;
        chain = { dir, path: join(dir, 'log', LOG_NAME), ...mode, maxFileSize, rounds: [] };
        mkdirSync(join(dir, 'log'), { recursive: true });
      }
      const { durability, threads, maxFileSize } = chain;
      const modeName = `${durability}, ${threads === 0 ? 'one thread' : `${threads} worker threads + main`}`;
      const stats = (summary.byMode[modeName] ??= {
        rounds: 0,
        ackedRecords: 0,
        inFlightFound: 0,
        kills: {},
        states: {},
        warnings: {},
        failures: 0,
      });
      const buffered = durability === 'buffered' || durability === 'buffered-fsync';
      const writers = threads + 1;
      const ackEvery = buffered ? 1 + Math.floor(random() * 200) : 1;
      const cfg: CrashChildConfig = {
        path: chain.path,
        ackPath: join(chain.dir, `acks.${round}`),
        durability,
        threads,
        maxFileSize,
        bufferSize: [64, 512, 4096, 65536][Math.floor(random() * 4)]!,
        flushInterval: random() < 0.5 ? 0 : 1 + Math.floor(random() * 20),
        round,
        seed,
        maxLen: [8, 60, 300][Math.floor(random() * 3)]!,
        ackEvery,
        cap,
      };
      const plan = randomPlan(random, durability, maxDelayMs, maxAfterAckMs);
      if (plan.kind === 'point') cfg.die = plan.die;
      writeFileSync(cfg.ackPath, Buffer.alloc(4 * writers));
      const info: RoundInfo = { round, writers, acked: [], slack: ackEvery, seed, maxLen: cfg.maxLen };
      const kill = describePlan(plan);
      stats.rounds++;
      summary.rounds++;
      bump(stats.kills, planKey(plan));
      try {
        await runChild(cfg, plan, writers);
        info.acked = readAcks(cfg.ackPath, writers);
        chain.rounds.push(info);
        const acked = info.acked.reduce((a, b) => a + b, 0);
        stats.ackedRecords += acked;

        // 1. The log exactly as the kill left it.
        const logDir = join(chain.dir, 'log');
        for (const s of crashState(logDir, maxFileSize)) bump(stats.states, s);
        const raw = logFilesOf(logDir);
        // A claim file: killed while removing the previous round's stale
        // lock (lockfile.ts, removeLockIf); the next open removes it.
        const claims = raw.others.filter((n) => CLAIM_NAME.test(n));
        if (claims.length > 0) bump(stats.states, 'claim file left (killed while taking over a stale lock)');
        assert.deepEqual(
          raw.others.filter((n) => n !== LOCK_NAME && n !== TEMP_NAME && !CLAIM_NAME.test(n)),
          [],
          'no file but the log, its lock, its rollover temp file and a claim on a stale lock',
        );
        checkRecords(readOrNothing(chain.path), chain.rounds);

        // 2. Reopened (on a copy, so the next child meets the crash itself).
        const copy = join(chain.dir, `reopened.${round}`);
        copyDir(logDir, copy);
        const copyPath = join(copy, LOG_NAME);
        warnings.length = 0;
        const lock = join(logDir, LOCK_NAME);
        if (existsSync(lock) && readFileSync(lock).length === 0) {
          // Killed between creating its lock file and writing it: the lock
          // is refused while it may still be being written, and taken over
          // once LOCK_TAKE_GRACE_MS old. Let that time pass (for the next
          // child too).
          bump(stats.states, 'empty lock file (killed while taking the lock)');
          assert.throws(() => new BinaryLogger(copyPath, { maxFileSize }), { code: 'ERR_LOGGER_PATH_IN_USE' });
          const past = new Date(Date.now() - LOCK_TAKE_GRACE_MS - 1000);
          for (const l of [lock, join(copy, LOCK_NAME)]) utimesSync(l, past, past);
        }
        const logger = new BinaryLogger(copyPath, { maxFileSize });
        logger.on('error', (err) => assert.fail(err));
        assert.ok(!existsSync(join(copy, TEMP_NAME)), `no ${TEMP_NAME} after reopening`);
        const marker = `after round ${round}`;
        logger.write(marker);
        logger.close();
        await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
        for (const w of warnings) bump(stats.warnings, w.code ?? w.name);
        const reopened = logFilesOf(copy);
        assert.deepEqual(reopened.others, [], 'no file but the log after reopening and closing');
        const beyond = checkRecords([...readLog(copyPath)], chain.rounds, marker);
        stats.inFlightFound += beyond;
        checkFileLayout(copy, reopened.backups, maxFileSize);
        rmSync(copy, { recursive: true, force: true });
        log(`round ${round} ok: ${modeName}, maxFileSize ${maxFileSize}; ${kill}; ${acked} acked, ${beyond} in flight found`);
      } catch (err) {
        stats.failures++;
        const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
        summary.failures.push({ round, mode: modeName, kill, dir: chain.dir, message });
        log(`round ${round} FAILED: ${modeName}, maxFileSize ${maxFileSize}; ${kill}\n${message}`);
        chain = undefined; // keep the evidence; start a new chain
      }
    }
  } finally {
    await new Promise((r) => setImmediate(r));
    stopCollecting();
  }
  if (summary.failures.length === 0 && options.dir === undefined) rmSync(root, { recursive: true, force: true });
  summary.ms = Date.now() - started;
  return summary;
}

export function formatSummary(summary: CrashSummary): string {
  const lines = [`${summary.rounds} crash rounds in ${(summary.ms / 1000).toFixed(1)} s, ${summary.failures.length} failed`];
  for (const [mode, s] of Object.entries(summary.byMode)) {
    lines.push(`  ${mode}: ${s.rounds} rounds, ${s.failures} failed, ${s.ackedRecords} records acknowledged, ${s.inFlightFound} in-flight records found`);
    const fmt = (r: Record<string, number>): string =>
      Object.entries(r)
        .sort()
        .map(([k, v]) => `${k} ${v}`)
        .join('; ') || '-';
    lines.push(`    kills: ${fmt(s.kills)}`);
    lines.push(`    left behind: ${fmt(s.states)}`);
    lines.push(`    reopen warnings: ${fmt(s.warnings)}`);
  }
  for (const f of summary.failures) lines.push(`FAILED round ${f.round} (${f.mode}; ${f.kill}; log kept in ${f.dir}):\n${f.message}`);
  return lines.join('\n');
}

// `node build/test/crash/crash-loop.js [rounds] [seed]`: the long version.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rounds = Number(process.argv[2] ?? 200);
  const seed = Number(process.argv[3] ?? Date.now() % 1_000_000);
  console.log(`crash loop: ${rounds} rounds, seed ${seed}`);
  const summary = await runCrashRounds({
    rounds,
    seed,
    durabilities: ['sync', 'buffered', 'fsync', 'buffered-fsync'],
    threads: [0, 3],
    log: process.env.CRASH_VERBOSE ? (line) => console.log(line) : (line) => line.includes('FAILED') && console.log(line),
  });
  console.log(formatSummary(summary));
  process.exitCode = summary.failures.length === 0 ? 0 : 1;
}

/** The records of a log; none when a kill came before the first file was made (readers throw ENOENT for no log). */
function readOrNothing(path: string): string[] {
  try {
    return [...readLog(path)];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
