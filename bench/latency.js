// L1 in the driver: follow() latency beside GNU `tail -F`. Each round runs
// one fresh latency-child.js per contender (which forks its own writer);
// this module turns the rounds into a row per contender and a table.
//
// Latency is append-to-yield: the time the follower saw a record minus the
// time another process handed it to the OS (both on CLOCK_MONOTONIC). The
// samples of every round are pooled: the median and the 99th percentile are
// over all of them; `spread` is half the range of the rounds' medians.

import { fmt, fmtInt, fmtRatio, median, quantile } from './fmt.js';

/** Timed records per round of a full run, one every INTERVAL_MS (--quick divides the count by 10). */
export const LATENCY_COUNT = 2_000;
/** The writer's pace. */
export const INTERVAL_MS = 2;
/** Records before the timed ones, not counted: they warm up both processes' JIT. */
export const WARMUP = 50;

/** The L1 contenders; family as in contenders.js ('ours' is highlighted in charts). */
export const LATENCY_CONTENDERS = {
  follow: { label: 'ours follow()', family: 'ours' },
  'tail-F': { label: 'GNU tail -F (text lines)', family: 'tail' },
};

/** The child's spec for one round. */
export function latencySpec(contender, dir, count) {
  return { contender, dir, count, warmup: WARMUP, intervalMs: INTERVAL_MS };
}

/** One row from a contender's samples: { ok, error?, n, medianUs, p99Us, maxUs, minMedianUs, maxMedianUs }. */
export function latencyRow(contender, samples) {
  const failed = samples.find((s) => s.error);
  const good = samples.filter((s) => !s.error);
  const all = good.flatMap((s) => s.latenciesUs).sort((a, b) => a - b);
  const medians = good.map((s) => median(s.latenciesUs));
  return {
    contender,
    ok: !failed,
    error: failed?.error,
    rounds: good.length,
    n: all.length,
    medianUs: quantile(all, 0.5),
    p99Us: quantile(all, 0.99),
    maxUs: all.length ? all[all.length - 1] : NaN,
    minMedianUs: medians.length ? Math.min(...medians) : NaN,
    maxMedianUs: medians.length ? Math.max(...medians) : NaN,
  };
}

const ms = (us) => fmt(us / 1000, 3);

/** The L1 table: median, p99 and max in ms, and ours / tail -F for each. */
export function latencyTable({ workload, rows }, table) {
  const ref = rows.get('tail-F');
  const headers = ['contender', 'records', 'median ms', 'p99 ms', 'max ms', 'spread', 'median x tail -F', 'p99 x tail -F', 'check'];
  const lines = workload.contenders.map((c) => {
    const r = rows.get(c);
    const spread = r.rounds > 1 && r.medianUs > 0 ? `±${fmt(((r.maxMedianUs - r.minMedianUs) / 2 / r.medianUs) * 100, 0)}%` : '';
    const vs = (key) => fmtRatio(ref?.ok && r.ok ? r[key] / ref[key] : NaN);
    return [LATENCY_CONTENDERS[c].label, fmtInt(r.n), ms(r.medianUs), ms(r.p99Us), ms(r.maxUs), spread, vs('medianUs'), vs('p99Us'), r.ok ? 'ok' : `**FAIL**: ${r.error}`];
  });
  return table(headers, lines, 'lrrrrrrrl');
}
