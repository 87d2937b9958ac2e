/**
 * Issue 5, item 1, short version of the crash loop (test/crash/crash-loop.ts;
 * `npm run test:crash` runs the long one): a child process writing numbered
 * records, alone or with worker threads sharing the log, SIGKILLed at random
 * moments and right after chosen file-system calls (mid-rollover,
 * mid-record, mid-recovery). After every round, reading the log as the kill
 * left it, and again after reopening it, gives every acknowledged record
 * exactly once and in each writer's order, nothing torn or foreign, backups
 * 0..n-1, no temp file after reopening, and a logger that appends.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DURABILITIES } from '../src/index.js';
import { formatSummary, runCrashRounds } from './crash/crash-loop.js';

for (const [i, durability] of DURABILITIES.entries()) {
  test(`SIGKILLed at random moments, ${durability} mode loses no acknowledged record, tears none, and the log reopens and appends (5 rounds, 1 and 3 threads)`, async (t) => {
    const summary = await runCrashRounds({
      rounds: 5,
      durabilities: [durability],
      threads: [0, 2],
      chainLength: 3,
      seed: 1000 + i,
      maxDelayMs: 700,
      maxAfterAckMs: 120,
      cap: 5000,
    });
    for (const line of formatSummary(summary).split('\n')) t.diagnostic(line);
    assert.deepEqual(
      summary.failures.map((f) => `round ${f.round} (${f.mode}; ${f.kill}): ${f.message}`),
      [],
    );
    // Reopening after a kill warns only of what a kill leaves: a torn tail
    // cut, an interrupted rollover finished (counted, not printed).
    for (const [mode, stats] of Object.entries(summary.byMode)) {
      for (const code of Object.keys(stats.warnings)) {
        assert.ok(['BINLOG_TORN_TAIL', 'BINLOG_ROLLOVER_RECOVERED'].includes(code), `${mode}: unexpected warning ${code}`);
      }
    }
  });
}
