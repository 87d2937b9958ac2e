// One SVG chart per workload of a run (bench/chart-<id>.svg): which rows
// are ours, what each bar says, what it is compared with. The drawing is
// chart.js's.
//
// Ratios on the bars are speed ratios against one reference row per chart,
// said in words ("3.2x slower"), so a reader needs no convention:
// - write workloads (W1-W4, F1): our fastest row in that workload;
// - R1: readFileSync alone, the reading ceiling (issue 13's target);
// - T1: one thread of the same mode (the column height);
// - L1: GNU tail -F, same statistic (shorter is better there).

import { barChart, columnChart, COLORS } from './chart.js';
import { CONTENDERS } from './contenders.js';
import { fmtInt, fmtRate } from './fmt.js';
import { LATENCY_CONTENDERS } from './latency.js';

const LEGEND = [
  { name: 'binary-logger (ours)', color: COLORS.ours },
  { name: 'peers and references', color: COLORS.peer },
];

/** '3.20x slower' / '1.07x faster' / 'same' for a ratio of speeds (this / reference). */
function versus(speedRatio) {
  if (!Number.isFinite(speedRatio)) return 'n/a';
  if (Math.abs(speedRatio - 1) < 0.005) return 'same speed';
  const x = speedRatio > 1 ? speedRatio : 1 / speedRatio;
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}x ${speedRatio > 1 ? 'faster' : 'slower'}`;
}

/** The fastest row that passed, among `contenders`, or undefined. */
function fastest(rows, contenders) {
  let best;
  for (const c of contenders) {
    const r = rows.get(c);
    if (r?.ok && Number.isFinite(r.ns) && (!best || r.ns < best.ns)) best = r;
  }
  return best;
}

/** What a workload's records are, for its chart's title (with the size of one record). */
const WHAT = {
  W1: (n) => `${n} records of 61 ASCII bytes`,
  W2: (n) => `${n} records of 1 KiB`,
  W3: (n) => `${n} records of 61 ASCII bytes, rolling over every 1 MiB`,
  W4: (n, avg) => `${n} records of Latin-1, CJK and emoji (${avg.toFixed(0)} bytes on average)`,
  F1: (n) => `${n} records of 61 ASCII bytes, durable modes`,
  R1: (n) => `reading back ${n} records of 61 ASCII bytes (W1's log)`,
};

/** A tick label: '0', '500k', '2M', '2.5M'. */
function tickRate(v) {
  if (v >= 1e6) return `${Number((v / 1e6).toFixed(2))}M`;
  if (v >= 1e3) return `${Number((v / 1e3).toFixed(1))}k`;
  return String(Number(v.toFixed(1)));
}

function ratesChart({ workload, count, bytes, rows }, { footer, labelOf }) {
  const ran = workload.contenders.filter((c) => rows.has(c));
  const isRead = workload.kind === 'read';
  const ref = isRead ? rows.get('read-file') : fastest(rows, ran.filter((c) => CONTENDERS[c].family === 'ours'));
  const refOk = ref?.ok && Number.isFinite(ref.ns);
  const refName = ref ? labelOf(workload, ref.contender) : 'n/a';
  const rate = (r) => count / (r.ns / 1e9);
  const ordered = ran.map((c) => rows.get(c)).sort((a, b) => (b.ok && Number.isFinite(b.ns) ? rate(b) : -1) - (a.ok && Number.isFinite(a.ns) ? rate(a) : -1));
  const chartRows = ordered.map((r) => {
    const ok = r.ok && Number.isFinite(r.ns);
    const isRef = r === ref;
    let text = ok ? `${fmtRate(rate(r))}/s` : `FAIL: ${String(r.error ?? 'no result').slice(0, 60)}`;
    if (ok) text += isRef ? ' (reference)' : refOk ? ` · ${versus(ref.ns / r.ns)}` : '';
    return { label: labelOf(workload, r.contender), value: ok ? rate(r) : NaN, text, ours: CONTENDERS[r.contender].family === 'ours', bold: isRef, failed: !ok };
  });
  const na = (workload.na ?? []).length ? ' sonic-boom and pino do not roll over: not run.' : '';
  const subtitle = isRead
    ? `Records read per second (longer is faster), each compared with ${refName}, the reading ceiling.`
    : `Records written per second (longer is faster), each compared with ${refName}, our fastest mode here.${na}`;
  return barChart({
    title: `${workload.id}: ${(WHAT[workload.id] ?? ((n) => `${n} records`))(fmtInt(count), bytes / count)}`,
    subtitle,
    legend: LEGEND,
    rows: chartRows,
    axis: { format: tickRate, title: isRead ? 'records read per second' : 'records written per second' },
    footer,
  });
}

function threadsChart({ workload, count, rows }, { footer, cores }) {
  const threads = [...new Set(workload.contenders.map((c) => CONTENDERS[c].threads))].sort((a, b) => a - b);
  const modes = [...new Set(workload.contenders.map((c) => CONTENDERS[c].durability))];
  const groups = threads.map((n) => ({
    label: `${n} thread${n > 1 ? 's' : ''}`,
    columns: modes.map((mode) => {
      const r = rows.get(`t${n}-${mode}`);
      const one = rows.get(`t1-${mode}`);
      if (!r) return { value: NaN, top: 'not run', failed: true };
      if (!r.ok || !one?.ok) return { value: NaN, top: 'FAIL', failed: true };
      return { value: one.ns / r.ns, top: `${(one.ns / r.ns).toFixed(2)}x`, bottom: `${fmtRate(count / (r.ns / 1e9))}/s` };
    }),
  }));
  const shades = [COLORS.ours, COLORS.oursLight];
  return columnChart({
    title: `T1: ${fmtInt(count)} records of 61 ASCII bytes from threads sharing one log`,
    subtitle: `Column height: speed-up over one thread of the same mode (above 1.00x is faster); under it, records/s. 'sync' makes one write(2) per record. This machine has ${cores} cores.`,
    series: modes.map((m, i) => ({ name: `ours '${m}'`, color: shades[i % shades.length] })),
    groups,
    axis: { format: (v) => `${v.toFixed(1)}x`, title: 'speed-up vs 1 thread' },
    xTitle: 'writer threads',
    reference: { value: 1, label: '1 thread' },
    footer,
  });
}

function latencyChart({ workload, rows }, { footer }) {
  const ref = rows.get('tail-F');
  const chartRows = [];
  for (const [key, stat] of [
    ['medianUs', 'median'],
    ['p99Us', '99th percentile'],
  ]) {
    for (const c of workload.contenders) {
      const r = rows.get(c);
      const ok = r.ok && Number.isFinite(r[key]);
      let text = ok ? `${(r[key] / 1000).toFixed(3)} ms` : `FAIL: ${String(r.error).slice(0, 60)}`;
      if (ok && c !== 'tail-F' && ref?.ok) text += ` · ${(r[key] / ref[key]).toFixed(2)}x tail -F`;
      chartRows.push({ label: `${LATENCY_CONTENDERS[c].label}, ${stat}`, value: ok ? r[key] / 1000 : NaN, text, ours: LATENCY_CONTENDERS[c].family === 'ours', failed: !ok });
    }
  }
  const n = rows.get(workload.contenders[0])?.n;
  return barChart({
    title: `L1: follow() latency, 61-byte records from another process every ${workload.intervalMs} ms`,
    subtitle: `Time from a record's write(2) in the writer process to its arrival in the follower (shorter is better), over ${fmtInt(n ?? 0)} records per contender, beside GNU tail -F following a text file in the same run.`,
    legend: [LEGEND[0], { name: 'GNU tail -F', color: COLORS.peer }],
    rows: chartRows,
    // Log scale: a median of 0.1 ms must stay visible beside a p99 of tens of ms on a busy machine.
    axis: { format: (v) => `${v} ms`, title: 'append-to-yield latency, ms (log scale)', log: true },
    footer,
  });
}

/**
 * The charts of a run: [{ id, file, svg }], one per workload that ran.
 * meta = { footer: [lines], labelOf(workload, contender), cores }.
 */
export function chartsOf(results, meta) {
  return results.map((result) => {
    const { kind, id } = result.workload;
    const svg = kind === 'threads' ? threadsChart(result, meta) : kind === 'latency' ? latencyChart(result, meta) : ratesChart(result, meta);
    return { id, file: `chart-${id}.svg`, svg };
  });
}
