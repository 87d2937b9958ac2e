// The Markdown tables of a run (one per workload) and the Targets tables of
// issues 4 and 13, from the rows run.js collected: what RESULTS.md shows.

import { CONTENDERS } from './contenders.js';
import { fmt, fmtRate, fmtRatio, table } from './fmt.js';
import { latencyTable } from './latency.js';

const MiB = 1024 * 1024;

function familyBest(rows, family, contenders) {
  let best;
  for (const c of contenders) {
    const r = rows.get(c);
    if (r && CONTENDERS[c].family === family && r.ok && Number.isFinite(r.ns) && (!best || r.ns < best.ns)) best = r;
  }
  return best;
}


/** Half the range of the rounds around the median (a row keeps its rounds' min and max). */
function spread(r) {
  return Number.isFinite(r.ns) && r.rounds > 1 ? `±${fmt(((r.maxNs - r.minNs) / 2 / r.ns) * 100, 0)}%` : '';
}
function status(r) {
  return r.ok ? 'ok' : `**FAIL**: ${r.error}`;
}
const mib = (b) => fmt(b / MiB, 0);
/** CPU seconds of the run (all threads, user + system), and the system share. */
const cpuCell = (r) => (Number.isFinite(r.cpuUs) ? `${fmt(r.cpuUs / 1e6, 3)} (${fmt((100 * r.sysUs) / Math.max(1, r.cpuUs), 0)}% sys)` : 'n/a');

/** A contender's name in a workload's table and chart. */
export function labelOf(workload, contender) {
  if (contender === 'ceiling' && workload.maxFileSize) return 'ceiling (1 MiB chunks, with rollover)';
  return CONTENDERS[contender].label;
}

/** The cells every table shares: rate, throughput, time, spread, CPU. */
function timingCells(r, count, bytes) {
  const s = r.ns / 1e9;
  return [fmtRate(count / s), fmt(bytes / 1e6 / s), fmt(s, 3), spread(r), cpuCell(r)];
}

/** Peak RSS during the run, and what the run added to it. */
function rssCells(r) {
  return [mib(r.peakRss), mib(r.peakRss - r.rssBefore)];
}

function writeTable({ workload, count, bytes, rows }) {
  const ceil = familyBest(rows, 'ceiling', workload.contenders);
  const sonicBest = familyBest(rows, 'sonic', workload.contenders);
  const naiveRef = familyBest(rows, 'naive', workload.contenders);
  const headers = ['contender', 'records/s', 'MB/s', 'time s', 'spread', 'CPU s', 'out MB', 'peak RSS MiB', '+RSS MiB', 'x ceiling', 'x sonic-boom best', 'x naive', 'check'];
  const lines = [];
  for (const c of workload.contenders) {
    const r = rows.get(c);
    lines.push([
      labelOf(workload, c),
      ...timingCells(r, count, bytes),
      r.outBytes !== undefined ? fmt(r.outBytes / 1e6, 0) : '',
      ...rssCells(r),
      fmtRatio(ceil ? r.ns / ceil.ns : NaN),
      fmtRatio(sonicBest ? r.ns / sonicBest.ns : NaN),
      fmtRatio(naiveRef ? r.ns / naiveRef.ns : NaN),
      status(r),
    ]);
  }
  for (const c of workload.na ?? []) lines.push([CONTENDERS[c].label, 'n/a', 'n/a', 'n/a', '', '', '', '', '', 'n/a', 'n/a', 'n/a', 'n/a (no rollover)']);
  return table(headers, lines, 'lrrrrrrrrrrrl');
}

function readTable({ workload, count, bytes, rows }) {
  const ceil = rows.get('read-file');
  const naiveRef = rows.get('naive-read');
  const headers = ['contender', 'records/s', 'MB/s', 'time s', 'spread', 'CPU s', 'peak RSS MiB', '+RSS MiB', 'x readFileSync', 'x naive reader', 'check'];
  const lines = workload.contenders.map((c) => {
    const r = rows.get(c);
    return [
      CONTENDERS[c].label,
      ...timingCells(r, count, bytes),
      ...rssCells(r),
      fmtRatio(ceil?.ok ? r.ns / ceil.ns : NaN),
      fmtRatio(naiveRef?.ok ? r.ns / naiveRef.ns : NaN),
      status(r),
    ];
  });
  return table(headers, lines, 'lrrrrrrrrrl');
}

function threadsTable({ workload, count, bytes, rows }, w1) {
  const w1ceil = w1?.rows.get('ceiling');
  const headers = ['contender', 'records/s', 'MB/s', 'time s', 'spread', 'CPU s', 'peak RSS MiB', '+RSS MiB', 'speed-up vs 1 thread', 'x W1 ceiling', 'check'];
  const lines = workload.contenders.map((c) => {
    const r = rows.get(c);
    const one = rows.get(`t1-${CONTENDERS[c].durability}`);
    return [
      CONTENDERS[c].label,
      ...timingCells(r, count, bytes),
      ...rssCells(r),
      fmtRatio(one?.ok ? one.ns / r.ns : NaN),
      fmtRatio(w1ceil?.ok && w1.count === count ? r.ns / w1ceil.ns : NaN),
      status(r),
    ];
  });
  return table(headers, lines, 'lrrrrrrrrrl');
}

/** The targets of issue 4, item 4, as far as this run measured them: a table, or '' when none was measured. */
export function targetsTable(results) {
  const by = Object.fromEntries(results.map((r) => [r.workload.id, r]));
  const out = [];
  const ratio = (id, a, b) => {
    const w = by[id];
    const x = w?.rows.get(a);
    const y = w?.rows.get(b);
    return x?.ok && y?.ok ? x.ns / y.ns : NaN;
  };
  const add = (what, value, goal, pass, shown = fmtRatio(value)) => {
    if (Number.isFinite(value)) out.push([what, shown, goal, pass ? 'met' : '**missed**']);
  };
  for (const id of ['W1', 'W3', 'W4']) {
    const v = ratio(id, 'ours-buffered', 'ceiling');
    add(`${id}: 'buffered' / ceiling`, v, '<= 1.3x', v <= 1.3);
  }
  {
    const v = ratio('W2', 'ours-buffered', 'ceiling');
    add("W2: 'buffered' / ceiling", v, '<= 1.2x (stretch 1.1x)', v <= 1.2);
  }
  if (by.W1) {
    const best = familyBest(by.W1.rows, 'sonic', by.W1.workload.contenders);
    const buf = by.W1.rows.get('ours-buffered');
    if (best && buf?.ok) {
      const v = best.ns / buf.ns;
      add("W1: sonic-boom's best / 'buffered' (speed-up)", v, '>= 3x', v >= 3);
    }
  }
  for (const id of ['W1', 'W2', 'W3', 'W4']) {
    const v = ratio(id, 'ours-sync', 'naive');
    add(`${id}: 'sync' / naive port`, v, '<= 1.0x', v <= 1.0);
  }
  if (by.W1 && by.W3 && by.W1.count === by.W3.count) {
    const a = by.W3.rows.get('ours-buffered');
    const b = by.W1.rows.get('ours-buffered');
    if (a?.ok && b?.ok) add("W3 / W1 in 'buffered'", a.ns / b.ns, '< 1.1x', a.ns / b.ns < 1.1);
  }
  for (const c of ['readlog-utf8', 'readlog-buffer']) {
    const v = ratio('R1', c, 'read-file');
    add(`R1: ${CONTENDERS[c].label} / readFileSync`, v, '<= 1.5x', v <= 1.5);
  }
  if (by.T1) {
    const one = by.T1.rows.get('t1-buffered');
    const two = by.T1.rows.get('t2-buffered');
    if (one?.ok && two?.ok) add("T1: 2 threads / 1 thread in 'buffered' (speed-up)", one.ns / two.ns, '>= 1.5x', one.ns / two.ns >= 1.5);
  }
  let worstPeak = 0;
  let worstDelta = 0;
  let where = '';
  for (const r of results) {
    if (r.workload.kind !== 'write' && r.workload.kind !== 'threads') continue;
    for (const [c, row] of r.rows) {
      if (CONTENDERS[c].family !== 'ours' || !Number.isFinite(row.peakRss)) continue;
      worstDelta = Math.max(worstDelta, row.peakRss - row.rssBefore);
      if (row.peakRss > worstPeak) {
        worstPeak = row.peakRss;
        where = `${r.workload.id} ${c}`;
      }
    }
  }
  if (worstPeak > 0) {
    add(
      'peak RSS of ours, every write workload: added by writing (+RSS)',
      worstDelta / MiB,
      '< 100 MB',
      worstDelta < 100 * 1e6,
      `${fmt(worstDelta / MiB, 0)} MiB (peak with the input held: ${fmt(worstPeak / MiB, 0)} MiB, ${where})`,
    );
  }
  return out.length ? table(['target (issue 4)', 'this run', 'goal', ''], out, 'lrll') : '';
}

/**
 * The targets of issue 13 (the zero-copy cursor against readFileSync; threads
 * holding their speed past the core count), as far as this run measured them: a table, or ''. The
 * follow() latency target has no number (keep it near tail -F; see L1's table).
 */
export function issue13Table(results) {
  const out = [];
  const r1 = results.find((r) => r.workload.id === 'R1');
  const cursor = r1?.rows.get('cursor-count');
  const file = r1?.rows.get('read-file');
  if (cursor?.ok && file?.ok) {
    const v = cursor.ns / file.ns;
    out.push(['R1: openCursor counting records and summing lengths / readFileSync', fmtRatio(v), '<= 1.3x', v <= 1.3 ? 'met' : '**missed**']);
  }
  const t1 = results.find((r) => r.workload.id === 'T1');
  const goals = !t1 ? [] : [
    ['buffered', 2, 1.7],
    ['buffered', 4, 1.5],
    ['buffered', 8, 1.5],
    ['sync', 2, 1.3],
    ['sync', 4, 1.3],
    ['sync', 8, 1.3],
  ];
  for (const [mode, threads, goal] of goals) {
    const one = t1.rows.get(`t1-${mode}`);
    const n = t1.rows.get(`t${threads}-${mode}`);
    if (!one?.ok || !n?.ok) continue;
    const v = one.ns / n.ns;
    out.push([`T1: ${threads} threads / 1 thread in '${mode}' (speed-up)`, fmtRatio(v), `>= ${goal}x`, v >= goal ? 'met' : '**missed**']);
  }
  return out.length ? table(['target (issue 13)', 'this run', 'goal', ''], out, 'lrll') : '';
}

/** The table of one workload's result; `w1` is W1's result of the same run, if any (T1 compares with its ceiling). */
export function tableOf(result, w1) {
  switch (result.workload.kind) {
    case 'write':
      return writeTable(result);
    case 'read':
      return readTable(result);
    case 'threads':
      return threadsTable(result, w1);
    case 'latency':
      return latencyTable(result, table);
    default:
      throw new Error(`no table for ${result.workload.kind}`);
  }
}
