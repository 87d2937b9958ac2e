// npm run bench: the driver. For each selected workload, runs every
// contender in a fresh child process, alternating (A B C .. A B C ..) for
// N rounds, checks each output, and prints one table per workload (medians
// of the rounds, and ratios of median times). A full run also writes the
// tables to bench/RESULTS.md and one SVG chart per workload to
// bench/chart-<id>.svg.
//
//   node bench/run.js [--rounds N] [--quick] [--only W1,R1] [--out FILE]
//                     [--no-write] [--note TEXT] [--cpu-prof DIR]
//                     [--contenders ours-buffered,ceiling] [--charts DIR]
//
// See bench/README.md.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chartsOf } from './charts.js';
import { CONTENDERS } from './contenders.js';
import { fmt, fmtInt, median } from './fmt.js';
import { INTERVAL_MS, LATENCY_CONTENDERS, LATENCY_COUNT, latencyRow, latencySpec } from './latency.js';
import { issue13Table, labelOf, tableOf, targetsTable } from './tables.js';
import { FULL_COUNTS, PAYLOAD_KIND, framesOf, sha256 } from './payloads.js';
import { checkBinaryLog, checkLines, checkPino, checkThreads } from './verify.js';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, 'child.js');
const LATENCY_CHILD = join(here, 'latency-child.js');
const CHILD_TIMEOUT_MS = 10 * 60 * 1000;
const MiB = 1024 * 1024;

// ------------------------------------------------------------------ options

function parseArgs(argv) {
  const o = { rounds: undefined, quick: false, only: undefined, out: undefined, write: true, note: undefined, cpuProf: undefined, charts: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a.startsWith('--rounds')) o.rounds = Number(value());
    else if (a.startsWith('--only')) o.only = value().split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
    else if (a.startsWith('--contenders')) o.contenders = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a.startsWith('--out')) o.out = value();
    else if (a === '--no-write') o.write = false;
    else if (a.startsWith('--note')) o.note = value();
    else if (a.startsWith('--cpu-prof')) o.cpuProf = resolve(value());
    else if (a.startsWith('--charts')) o.charts = resolve(value());
    else if (a === '--help' || a === '-h') {
      const text = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
      console.log(text.slice(0, text.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (o.rounds === undefined) o.rounds = o.quick ? 2 : 5;
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error('--rounds must be a positive integer');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const scale = opts.quick ? 10 : 1;
const COUNTS = Object.fromEntries(Object.entries({ ...FULL_COUNTS, L1: LATENCY_COUNT }).map(([k, v]) => [k, Math.floor(v / scale)]));

// ---------------------------------------------------------------- workloads

const WRITERS = ['ceiling', 'ours-sync', 'ours-buffered', 'naive', 'sonic-sync', 'sonic-async', 'sonic-async-4k', 'pino-sync', 'pino-async-4k'];
const ROLLERS = ['ceiling', 'ours-sync', 'ours-buffered', 'naive'];

const WORKLOADS = [
  { id: 'W1', kind: 'write', title: `W1: ${fmtInt(COUNTS.W1)} records of 61 ASCII bytes`, contenders: WRITERS },
  { id: 'W2', kind: 'write', title: `W2: ${fmtInt(COUNTS.W2)} records of 1 KiB`, contenders: WRITERS },
  {
    id: 'W3',
    kind: 'write',
    title: `W3: W1 with maxFileSize 1 MiB (~${Math.round((COUNTS.W3 * 65) / MiB)} rollovers)`,
    contenders: ROLLERS,
    na: WRITERS.filter((c) => !ROLLERS.includes(c)),
    maxFileSize: MiB,
  },
  { id: 'W4', kind: 'write', title: `W4: ${fmtInt(COUNTS.W4)} records mixing Latin-1, CJK and emoji`, contenders: WRITERS },
  {
    id: 'F1',
    kind: 'write',
    title: `F1: durable modes, ${fmtInt(COUNTS.F1)} records of W1 (every mode that survives power loss)`,
    contenders: ['ceiling-fsync', 'ours-fsync', 'ours-buffered-fsync', 'naive-fsync', 'sonic-sync-fsync'],
  },
  {
    id: 'R1',
    kind: 'read',
    title: `R1: reading W1's log back (${fmtInt(COUNTS.R1)} records, one file, in the page cache)`,
    contenders: ['read-file', 'read-file-decode', 'readlog-utf8', 'readlog-buffer', 'cursor-count', 'naive-read'],
  },
  {
    id: 'T1',
    kind: 'threads',
    title: `T1: W1 (${fmtInt(COUNTS.T1)} records) written by 1, 2, 4 and 8 worker threads sharing one log`,
    contenders: ['t1-buffered', 't2-buffered', 't4-buffered', 't8-buffered', 't1-sync', 't2-sync', 't4-sync', 't8-sync'],
  },
  {
    id: 'L1',
    kind: 'latency',
    title: `L1: follow() latency, ${fmtInt(COUNTS.L1)} records appended by another process every ${INTERVAL_MS} ms, beside GNU tail -F`,
    contenders: Object.keys(LATENCY_CONTENDERS),
    intervalMs: INTERVAL_MS,
  },
  // Two workloads measured by scripts of their own (each starts what it needs: processes, a nats-server)
  // and reported as the tables they print; no chart.
  {
    id: 'P1',
    kind: 'script',
    title: 'P1: several processes writing W1 records into one log (bench/multiprocess.js)',
    script: 'multiprocess.js',
    args: (quick) => (quick ? ['--quick'] : []),
    contenders: [],
  },
  {
    id: 'S1',
    kind: 'script',
    title: 'S1: shipping W1 to a local NATS JetStream server and pulling it back (bench/ship.js)',
    script: 'ship.js',
    args: (quick) => (quick ? ['--records', '100000', '--single-records', '10000'] : []),
    contenders: [],
  },
];

let selected = opts.only ? WORKLOADS.filter((w) => opts.only.includes(w.id)) : WORKLOADS;
if (opts.contenders) {
  const known = { ...CONTENDERS, ...LATENCY_CONTENDERS };
  const unknown = opts.contenders.filter((c) => !known[c]);
  if (unknown.length) throw new Error(`unknown contender(s) ${unknown.join(', ')}; known: ${Object.keys(known).join(', ')}`);
  selected = selected
    .map((w) => ({ ...w, contenders: w.contenders.filter((c) => opts.contenders.includes(c)), na: [] }))
    .filter((w) => w.contenders.length > 0);
}
if (opts.only) {
  const unknown = opts.only.filter((id) => !WORKLOADS.some((w) => w.id === id));
  if (unknown.length) throw new Error(`unknown workload(s) ${unknown.join(', ')}; known: ${WORKLOADS.map((w) => w.id).join(', ')}`);
}

// ------------------------------------------------------------------ helpers

/** A workload measured by a script of its own: its printed table is the result. */
function runScript(workload) {
  progress(`${workload.id}: node bench/${workload.script}`);
  const run = spawnSync(process.execPath, [join(here, workload.script), ...workload.args(opts.quick)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  // A table needs a blank line after the text above it to be one in Markdown.
  const markdown = run.status === 0 ? run.stdout.trim().replace(/^([^|\n].*)\n\|/m, '$1\n\n|') : `FAIL (exit ${run.status}): ${run.stderr.trim().split('\n').slice(-3).join(' ')}`;
  return { workload, markdown, rows: new Map() };
}

/** Run one measurement (child.js, or `script`) in a fresh process; resolves to its BENCH_RESULT, or { error }. */
function runChild(spec, script = CHILD) {
  return new Promise((resolvePromise) => {
    const args = ['--expose-gc'];
    if (spec.cpuProf) {
      mkdirSync(spec.cpuProf.dir, { recursive: true });
      args.push('--cpu-prof', '--cpu-prof-dir', spec.cpuProf.dir, '--cpu-prof-name', `${spec.cpuProf.name}.cpuprofile`, '--cpu-prof-interval', '100');
    }
    const child = spawn(process.execPath, [...args, script, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (!line) {
        const why = signal ? `killed by ${signal}` : `exit ${code}`;
        const lines = stderr.split('\n').map((l) => l.trim());
        const message = lines.find((l) => /^\w*Error\b|^Error \[/.test(l)) ?? lines.filter(Boolean).slice(-1)[0] ?? '';
        resolvePromise({ error: `child ${why}: ${message}` });
        return;
      }
      resolvePromise(JSON.parse(line.slice('BENCH_RESULT '.length)));
    });
  });
}

/** Check a sample's output against the expectation; returns { ok, error?, outBytes?, files? }. */
function check(workload, contender, dir, result, expected, frames) {
  const c = CONTENDERS[contender];
  let got;
  switch (c.output) {
    case 'binary':
      got = checkBinaryLog(dir, workload.maxFileSize ?? Infinity);
      break;
    case 'lines':
      got = checkLines(join(dir, 'log.txt'));
      break;
    case 'pino':
      got = checkPino(join(dir, 'log.txt'));
      break;
    case 'threads': {
      const passes = c.passes ?? 1;
      got = checkThreads(dir, frames, expected.count, c.threads, passes);
      if (got.ok && (got.count !== expected.count * passes || got.bytes !== expected.bytes * passes)) {
        return { ok: false, error: `${got.count} records / ${got.bytes} bytes, expected ${expected.count * passes} / ${expected.bytes * passes}` };
      }
      // The tables count one pass of the records: report the time of one pass.
      return { ...got, count: expected.count, bytes: expected.bytes, ns: result.ns / passes, cpuUs: result.cpuUs / passes, sysUs: result.sysUs / passes, timedNs: result.ns };
    }
    case 'self':
      got = { ok: true, ...result.yielded, outBytes: 0 };
      break;
    default:
      throw new Error(`no checker for ${c.output}`);
  }
  if (!got.ok) return got;
  if (got.count !== expected.count) return { ok: false, error: `${got.count} records, expected ${expected.count}` };
  if (got.digest !== expected.digest) return { ok: false, error: `content digest differs (${got.bytes} payload bytes, expected ${expected.bytes})` };
  return got;
}

/** The file system type and device of the mount holding `path` (Linux), for the header. */
function fileSystemOf(path) {
  try {
    let best = { at: '', text: 'file system unknown' };
    for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
      const [dev, at, type] = line.split(' ');
      if (at && (path === at || path.startsWith(at.endsWith('/') ? at : `${at}/`)) && at.length >= best.at.length) {
        best = { at, text: `${type} on ${dev}` };
      }
    }
    return best.text;
  } catch {
    return 'file system unknown';
  }
}

function peerVersion(name) {
  try {
    const require = createRequire(import.meta.url);
    return require(`${name}/package.json`).version;
  } catch {
    return '?';
  }
}
function pinoSonicVersion() {
  try {
    const require = createRequire(createRequire(import.meta.url).resolve('pino'));
    return require('sonic-boom/package.json').version;
  } catch {
    return '?';
  }
}

// ------------------------------------------------------------------- inputs

// One frames buffer per payload kind, for the largest count that kind needs;
// the expected digest of any prefix is the sha256 of the frames' prefix.
const root = mkdtempSync(join(os.tmpdir(), 'binlog-bench-'));
const inputs = new Map(); // kind -> { frames, path }

function inputFor(workload) {
  const kind = PAYLOAD_KIND[workload.id];
  let inp = inputs.get(kind);
  if (!inp) {
    const need = Math.max(...selected.filter((w) => PAYLOAD_KIND[w.id] === kind).map((w) => COUNTS[w.id]));
    const frames = framesOf(workload.id, need);
    const path = join(root, `input-${kind}.frames`);
    if (kind !== 'kib') writeFileSync(path, frames.buf); // W2 payloads are slices of one string, made in the child
    inp = { frames, path: kind === 'kib' ? undefined : path };
    inputs.set(kind, inp);
  }
  const count = COUNTS[workload.id];
  const end = inp.frames.offsets[count];
  const prefix = inp.frames.buf.subarray(0, end);
  const expected = { count, bytes: end - 4 * count, digest: sha256(prefix) };
  return { ...inp, expected, count };
}

// --------------------------------------------------------------------- main

const startedAt = new Date();
const loadStart = os.loadavg();
const results = []; // per workload: { workload, rows: Map(contender -> stats) }

function progress(s) {
  process.stderr.write(`${s}\n`);
}

progress(`binary-logger bench: ${selected.map((w) => w.id).join(', ')}; ${opts.rounds} rounds${opts.quick ? ' (quick: 1/10 of the records)' : ''}; temp ${root}`);
/** L1: every round runs each contender once in a fresh latency-child.js; rows pool the rounds' samples. */
async function measureLatency(workload) {
  const count = COUNTS.L1;
  const samples = new Map(workload.contenders.map((c) => [c, []]));
  for (let round = 1; round <= opts.rounds; round++) {
    for (const contender of workload.contenders) {
      const dir = mkdtempSync(join(root, `${workload.id}-${contender}-`));
      const result = await runChild(latencySpec(contender, dir, count), LATENCY_CHILD);
      rmSync(dir, { recursive: true, force: true });
      const sample = result.error ? { error: result.error } : result;
      samples.get(contender).push(sample);
      const lat = sample.latenciesUs;
      progress(
        `  ${workload.id} round ${round}/${opts.rounds} ${contender.padEnd(20)} ` +
          (lat ? `median ${fmt(median(lat) / 1000, 3)} ms  ok` : `FAIL: ${sample.error}`),
      );
    }
  }
  const rows = new Map([...samples].map(([c, list]) => [c, latencyRow(c, list)]));
  return { workload, count, bytes: count * 61, rows };
}

try {
  for (const workload of selected) {
    if (workload.kind === 'latency') {
      results.push(await measureLatency(workload));
      continue;
    }
    if (workload.kind === 'script') {
      results.push(runScript(workload));
      continue;
    }
    const inp = inputFor(workload);
    let input = inp.path;
    if (workload.kind === 'read') {
      // The log to read: W1's records as one file, exactly as a writer leaves it.
      const logDir = join(root, 'r1');
      mkdirSync(logDir, { recursive: true });
      input = join(logDir, 'log.bin');
      writeFileSync(input, inp.frames.buf.subarray(0, inp.frames.offsets[inp.count]));
    }
    const samples = new Map(workload.contenders.map((c) => [c, []]));
    for (let round = 1; round <= opts.rounds; round++) {
      for (const contender of workload.contenders) {
        const dir = mkdtempSync(join(root, `${workload.id}-${contender}-`));
        const spec = {
          workload: workload.id,
          contender,
          count: inp.count,
          input: workload.kind === 'read' ? input : inp.path,
          dir,
          maxFileSize: workload.maxFileSize ?? null,
          cpuProf: opts.cpuProf ? { dir: opts.cpuProf, name: `${workload.id}-${contender}-r${round}` } : undefined,
        };
        const result = await runChild(spec);
        let sample;
        if (result.error) sample = { ok: false, error: result.error };
        else {
          const verdict = check(workload, contender, dir, result, inp.expected, inp.frames);
          sample = { ...result, ...verdict };
        }
        rmSync(dir, { recursive: true, force: true });
        samples.get(contender).push(sample);
        progress(
          `  ${workload.id} round ${round}/${opts.rounds} ${contender.padEnd(20)} ` +
            (sample.ns !== undefined ? `${(sample.ns / 1e9).toFixed(3)} s  ` : '') +
            (sample.timedNs !== undefined && sample.timedNs !== sample.ns ? `(timed phase ${(sample.timedNs / 1e9).toFixed(3)} s)  ` : '') +
            (sample.ok ? 'ok' : `FAIL: ${sample.error}`),
        );
      }
    }
    const rows = new Map();
    for (const [contender, list] of samples) {
      const timed = list.filter((s) => s.ns !== undefined);
      const failed = list.find((s) => !s.ok);
      rows.set(contender, {
        contender,
        ok: !failed,
        error: failed?.error,
        rounds: timed.length,
        ns: timed.length ? median(timed.map((s) => s.ns)) : NaN,
        cpuUs: timed.length ? median(timed.map((s) => s.cpuUs)) : NaN,
        sysUs: timed.length ? median(timed.map((s) => s.sysUs)) : NaN,
        minNs: timed.length ? Math.min(...timed.map((s) => s.ns)) : NaN,
        maxNs: timed.length ? Math.max(...timed.map((s) => s.ns)) : NaN,
        peakRss: timed.length ? median(timed.map((s) => s.peakRss)) : NaN,
        rssBefore: timed.length ? median(timed.map((s) => s.rssBefore)) : NaN,
        peakReset: timed.every((s) => s.peakReset),
        outBytes: list.find((s) => s.outBytes !== undefined)?.outBytes,
        files: list.find((s) => s.files !== undefined)?.files,
      });
    }
    results.push({ workload, count: inp.count, bytes: inp.expected.bytes, rows });
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
const loadEnd = os.loadavg();

// ------------------------------------------------------------------- report

/** An argument as a shell would need it typed. */
function shellQuote(arg) {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

const cpu = os.cpus()[0]?.model ?? 'unknown';
const header = [
  '# binary-logger benchmark results',
  '',
  `- Date: ${startedAt.toISOString()}`,
  `- Node ${process.version}, ${os.type()} ${os.release()} ${os.arch()}`,
  `- CPU: ${cpu}, ${os.cpus().length} cores; ${fmt(os.totalmem() / 2 ** 30, 0)} GiB RAM`,
  `- Temp dir: ${os.tmpdir()} (${fileSystemOf(os.tmpdir())})`,
  `- Rounds: ${opts.rounds} per contender, alternating (A B C ... A B C ...); every number is the median of the rounds${opts.quick ? '; **--quick: 1/10 of the records**' : ''}`,
  `- Peers: sonic-boom ${peerVersion('sonic-boom')}, pino ${peerVersion('pino')} (its destination is sonic-boom ${pinoSonicVersion()})`,
  `- Load average (1, 5, 15 min): ${loadStart.map((x) => x.toFixed(2)).join(', ')} at start, ${loadEnd.map((x) => x.toFixed(2)).join(', ')} at end`,
  `- Command: \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).map(shellQuote).join(' ')}` : ''}\``,
];
if (opts.note) header.push(`- Note: ${opts.note}`);
header.push(
  '',
  'records/s and MB/s count payload bytes (MB = 10^6 bytes); `out MB` is what the contender wrote to disk (pino adds its JSON fields).',
  '`time s` is from before the first write to after the last byte is written and the file is closed; `spread` is half the',
  'range of the rounds around the median; `CPU s` is the CPU time of the run (every thread, user + system) and its system share. `peak RSS` is the peak during the timed run (Linux: the peak mark is reset after the',
  'payloads are loaded), which includes the payloads held in memory; `+RSS` is that peak minus the RSS before the run: what',
  'writing added. `x ceiling`, `x sonic-boom best`, `x naive` are time ratios (this / that): below 1.00x is faster.',
  '`check`: the output was read back and its record count and sha256 over the payloads in order matched.',
  'L1: append-to-yield latency, from a write(2) in a writer process to the record reaching the follower; the rounds are pooled;',
  '`check`: every record arrived, once, in order.',
);

const sections = [header.join('\n')];
const w1 = results.find((r) => r.workload.id === 'W1');
for (const r of results) {
  sections.push(`## ${r.workload.title}\n\n${r.markdown ?? tableOf(r, w1)}`);
}
const t = targetsTable(results);
if (t) sections.push(`## Targets\n\n${t}`);
const t13 = issue13Table(results);
if (t13) sections.push(`## Targets of issue 13\n\n${t13}`);
const markdown = `${sections.join('\n\n')}\n`;

process.stdout.write(`\n${markdown}`);
const fullRun = !opts.quick && !opts.only && !opts.contenders;
const outFile = opts.out ? resolve(opts.out) : fullRun && opts.write ? join(here, 'RESULTS.md') : undefined;
if (outFile && opts.write) {
  writeFileSync(outFile, markdown);
  progress(`wrote ${outFile}`);
} else if (!outFile) {
  progress('(a partial run: not written to bench/RESULTS.md; use --out FILE to keep it)');
}

// Charts: a full run writes them beside RESULTS.md; a partial one only where --charts says.
const chartDir = opts.charts ?? (fullRun && opts.write && !opts.out ? here : undefined);
if (chartDir && opts.write) {
  const day = startedAt.toISOString().slice(0, 10);
  const settings = [`${opts.rounds} round${opts.rounds > 1 ? 's' : ''}, medians`];
  if (opts.quick) settings.push('--quick: 1/10 of the records');
  if (opts.contenders) settings.push(`only ${opts.contenders.join(', ')}`);
  const footer = [
    `npm run bench, ${day}: ${settings.join('; ')}; load average ${loadStart[0].toFixed(2)} at start, ${loadEnd[0].toFixed(2)} at end.`,
    `${cpu}, ${os.cpus().length} cores, ${fmt(os.totalmem() / 2 ** 30, 0)} GiB RAM; Node ${process.version}, ${os.type()} ${os.release()} ${os.arch()}; ${fileSystemOf(os.tmpdir())}.`,
    ...(opts.note ? [`Note: ${opts.note}`] : []),
  ];
  mkdirSync(chartDir, { recursive: true });
  for (const chart of chartsOf(results.filter((r) => r.workload.kind !== 'script'), { footer, labelOf, cores: os.cpus().length })) {
    writeFileSync(join(chartDir, chart.file), chart.svg);
    progress(`wrote ${join(chartDir, chart.file)}`);
  }
}
if (results.some((r) => [...r.rows.values()].some((row) => !row.ok))) process.exitCode = 1;
