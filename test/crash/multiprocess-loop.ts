/**
 * Issue 11, item 4: SIGKILL the owner of a multi-process log at random
 * moments, round after round.
 *
 * Each round, three processes open one log with multiProcess and write
 * numbered records in 'sync' durability with a small maxFileSize (a
 * rollover every few dozen records). The parent SIGKILLs whichever process
 * owns the log (the pid in the lock file) after a random delay, and in some
 * rounds the next owner too. Then it checks:
 *   - every survivor exits 0 after writing all its records; each of its
 *     records is in the log, first occurrences in its write order (a batch
 *     in flight when an owner died may appear twice: at-least-once);
 *   - every record a killed process acknowledged is there, in order;
 *   - the log the last process closed follows the rollover rule, with no
 *     temp file and no lock file left.
 *
 * `npm run test:crash` runs 40 rounds (node build/test/crash/multiprocess-loop.js
 * [rounds] [seed]); test/multiprocess-takeover.test.ts runs a few.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BinaryLogger } from '../../src/index.js';
import { lockPath } from '../../src/lockfile.js';
import { captureWarnings } from '../helpers.js';
import { assertRolloverRule, assertWriterRecords, recordsByWriter, spawnWriter, type Writer } from '../multiprocess-helpers.js';
import { rng } from './records.js';

const MAX_FILE_SIZE = 1500;
const COUNT = 600;
const WRITERS = 3;

function ownerPid(path: string): number {
  try {
    return Number(readFileSync(lockPath(path), 'utf8').split(/\s/)[0]);
  } catch {
    return 0;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The live writer the lock file names as owner, once one does (after a kill
 * the lock still names the dead owner until a client takes over); undefined
 * when every writer that was not killed has ended.
 */
async function currentOwner(path: string, writers: Writer[], killed: Map<number, Writer>): Promise<Writer | undefined> {
  for (let i = 0; i < 5000; i++) {
    let pid = 0;
    try {
      pid = ownerPid(path);
    } catch {
      // between owners: no lock file for a moment
    }
    const owner = writers.find((w) => w.pid === pid && !killed.has(pid) && w.child.exitCode === null);
    if (owner) return owner;
    if (writers.every((w) => killed.has(w.pid) || w.child.exitCode !== null)) return undefined;
    await sleep(2);
  }
  return undefined;
}

/** One round; returns how many owners were killed. */
export async function multiprocessRound(seed: number): Promise<number> {
  const random = rng(seed);
  const dir = mkdtempSync(join(tmpdir(), 'binlog-mpcrash-'));
  const cleanups: Array<() => void> = [];
  const warnings = captureWarnings({ after: (fn) => cleanups.push(fn) });
  try {
    const path = join(dir, 'events.bin');
    const options = { maxFileSize: MAX_FILE_SIZE, durability: 'sync' as const, multiProcess: true };
    const writers: Writer[] = [];
    for (let w = 0; w < WRITERS; w++) writers.push(spawnWriter({ path, name: `p${w}`, count: COUNT, options, pauseEvery: 20 }));
    await Promise.all(writers.map((w) => w.ready));
    const kills = random() < 0.5 ? 1 : 2;
    const killed = new Map<number, Writer>();
    for (let k = 0; k < kills; k++) {
      // Kill at a random point of the owner's own progress, not after a
      // random time: a fast machine would finish every record first.
      const target = 20 + Math.floor(random() * (COUNT / 2));
      const victim = await currentOwner(path, writers, killed);
      if (!victim) break; // all done
      await victim.saw(`ack ${target}`).catch(() => undefined);
      victim.child.kill('SIGKILL');
      killed.set(victim.pid, victim);
      await victim.exited;
    }
    const exits = await Promise.all(writers.map((w) => w.exited));
    writers.forEach((w, i) => {
      const name = `p${i}`;
      if (killed.has(w.pid)) {
        assert.equal(exits[i]!.signal, 'SIGKILL');
      } else {
        assert.deepEqual(exits[i], { code: 0, signal: null }, `${name} (seed ${seed}): ${w.stderr.join('')}`);
        // A takeover may cut a torn tail or finish a rollover: those warnings, nothing else.
        const warnings = w.stderr.join('').match(/\((?:node:\d+)\) \[?[A-Z_]+/g) ?? [];
        for (const line of warnings) assert.match(line, /BINLOG_TORN_TAIL|BINLOG_ROLLOVER_RECOVERED/, `${name}: ${w.stderr.join('')}`);
      }
    });
    const seen = recordsByWriter(path);
    writers.forEach((w, i) => {
      const name = `p${i}`;
      const mustHave = killed.has(w.pid) ? w.acked() : COUNT;
      assertWriterRecords(seen.get(name), `${name} (seed ${seed})`, COUNT, true, mustHave);
    });
    if (existsSync(lockPath(path))) {
      // The last owner was killed after the others had closed: nobody was
      // left to take over. The next open recovers the log as after a crash.
      assert.ok(killed.has(ownerPid(path)), `the lock is a killed owner's (seed ${seed})`);
      new BinaryLogger(path, { maxFileSize: MAX_FILE_SIZE }).close();
      for (const w of warnings) assert.match(String(w.code), /^BINLOG_(TORN_TAIL|ROLLOVER_RECOVERED)$/);
    } else assert.deepEqual(warnings, []);
    assertRolloverRule(path, MAX_FILE_SIZE);
    assert.ok(!existsSync(lockPath(path)), `the lock was released (seed ${seed})`);
    return killed.size;
  } finally {
    for (const fn of cleanups) fn();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const rounds = Number(process.argv[2] ?? 40);
  const seed = Number(process.argv[3] ?? Date.now() % 100_000);
  let kills = 0;
  for (let r = 0; r < rounds; r++) {
    kills += await multiprocessRound(seed + r);
    process.stdout.write(`round ${r + 1}/${rounds} (seed ${seed + r}) ok, ${kills} owners killed so far\n`);
  }
}
