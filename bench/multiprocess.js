// Issue 11, item 5: several processes writing W1 records into one log.
//
// Rows (all in one run, so the ratios compare like with like):
//   - one process alone (no multiProcess), 'buffered' and 'sync': the baseline;
//   - multiProcess with 1, 2, 4 and 8 processes, 'buffered' and 'sync';
//   - log4js-style: 4 workers process.send() each record to a primary that
//     writes them (lib/clustering.js's design);
//   - 4 processes appending to one file with O_APPEND and no coordination:
//     fast, but UNSAFE (no shared rollover, torn records on a crash, no
//     retention): a ceiling, not a contender.
// Every process opens its log first (the owner before the others); then all
// start at once, and the time is until the last one has written and flushed
// all its records. Only then do they close: a process that closed early
// would hand ownership to another, whose remaining writes would then skip
// the socket, and the row would no longer measure clients.
// The floor row runs the same child making the same payloads and writing
// them nowhere: its peak RSS (Node, and V8's young generation grown under a
// million payload strings) is in every other row's figure too.
// Prints records/s together, the ratio to one process alone in the same
// mode, the median of a client's write() in 'sync' mode (the owner's own
// write() is shown apart: it commits directly), and the peak RSS of the
// biggest process.
//
// Usage: node bench/multiprocess.js [--quick] [--sync]   (after npm run build)

import { fork, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ascii61 } from './payloads.js';

const SELF = fileURLToPath(import.meta.url);
const QUICK = process.argv.includes('--quick');
// --sync: only the 'sync' rows (one process alone and multiProcess), for a quick before/after.
const SYNC_ONLY = process.argv.includes('--sync');
const BUFFERED_TOTAL = QUICK ? 100_000 : 1_000_000;
const SYNC_TOTAL = QUICK ? 10_000 : 50_000;
const MAX_FILE_SIZE = 64 * 1024 * 1024;

function peakRss() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
  } catch {
    return process.resourceUsage().maxRSS * 1024;
  }
}

function resetPeak() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux: the peak includes start-up
  }
}

// ------------------------------------------------------------------ child

async function child(spec) {
  // Payloads are made in the loop, as an application makes its records, so
  // the peak RSS is the logger's and not an array of a million strings.
  // Every row pays the same ~0.3 us a record for it.
  const count = spec.hi - spec.lo;
  let write;
  let flush = () => undefined;
  let finish;
  if (spec.mode === 'append') {
    const fd = openSync(spec.path, 'a');
    const header = Buffer.allocUnsafe(4);
    write = (p) => {
      const body = Buffer.from(p);
      header.writeUInt32BE(body.length);
      writeSync(fd, Buffer.concat([header, body]));
    };
    finish = () => closeSync(fd);
  } else if (spec.mode === 'none') {
    // The floor: the same loop and payloads, written nowhere.
    let bytes = 0;
    write = (p) => {
      bytes += p.length;
    };
    finish = () => {
      if (bytes < 0) throw new Error('unreachable');
    };
  } else if (spec.mode === 'send') {
    write = (p) => process.send(p);
    finish = () => new Promise((resolve) => process.send('\u0000done', resolve));
  } else {
    const { BinaryLogger } = await import('../dist/index.js');
    const logger = new BinaryLogger(spec.path, {
      maxFileSize: MAX_FILE_SIZE,
      durability: spec.durability,
      multiProcess: spec.mode === 'multi',
    });
    write = (p) => logger.write(p);
    flush = () => logger.flush();
    finish = () => logger.close();
  }
  // The peak RSS reported is the run's: the kernel's mark is reset after start-up.
  globalThis.gc?.();
  resetPeak();
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const timeEach = spec.durability === 'sync' && spec.mode !== 'send';
  const times = timeEach ? new Float64Array(count) : undefined;
  for (let i = 0; i < count; i++) {
    const payload = ascii61(spec.lo + i);
    if (times) {
      const t0 = process.hrtime.bigint();
      write(payload);
      times[i] = Number(process.hrtime.bigint() - t0);
    } else write(payload);
  }
  flush();
  // Written: the parent stops the clock when every process is here, then lets all close.
  process.stdout.write('written\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  await finish();
  let median;
  if (times) {
    times.sort();
    median = times[times.length >> 1];
  }
  process.stdout.write(`RESULT ${JSON.stringify({ median, peakRss: peakRss() })}\n`);
  process.stdin.destroy();
  if (process.connected) process.disconnect();
}

// ----------------------------------------------------------------- parent

function start(spec, ipc) {
  const args = [SELF, 'child', JSON.stringify(spec)];
  const proc = ipc
    ? fork(SELF, args.slice(1), { stdio: ['pipe', 'pipe', 'inherit', 'ipc'], execArgv: ['--expose-gc'] })
    : spawn(process.execPath, ['--expose-gc', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let written;
  const wrote = new Promise((resolve) => {
    written = resolve;
  });
  const ready = new Promise((resolve) =>
    proc.stdout.on('data', (c) => {
      out += c;
      if (out.includes('ready\n')) resolve();
      if (out.includes('written\n')) written();
    }),
  );
  const result = new Promise((resolve, reject) =>
    proc.on('close', (code) => {
      const m = /RESULT (.*)/.exec(out);
      if (code !== 0 || !m) reject(new Error(`child exited ${code}: ${out}`));
      else resolve(JSON.parse(m[1]));
    }),
  );
  return { proc, ready, wrote, result };
}

async function row(label, mode, durability, processes, total) {
  const dir = mkdtempSync(join(tmpdir(), 'binlog-bench-mp-'));
  const path = join(dir, 'events.bin');
  const per = Math.floor(total / processes);
  let primary;
  let received = 0;
  let allReceived;
  if (mode === 'send') {
    const { BinaryLogger } = await import('../dist/index.js');
    primary = new BinaryLogger(path, { maxFileSize: MAX_FILE_SIZE, durability: 'buffered' });
    allReceived = new Promise((resolve) => {
      primary.resolveAll = resolve;
    });
  }
  const children = [];
  for (let p = 0; p < processes; p++) {
    const c = start({ mode, durability, path, lo: p * per, hi: (p + 1) * per }, mode === 'send');
    if (mode === 'send') {
      c.proc.on('message', (m) => {
        if (m === '\u0000done') return;
        primary.write(m);
        if (++received === per * processes) primary.resolveAll();
      });
    }
    children.push(c);
    // Let the first open (the owner) settle before the others, as a cluster starts.
    if (p === 0) await c.ready;
  }
  await Promise.all(children.map((c) => c.ready));
  const t0 = process.hrtime.bigint();
  for (const c of children) c.proc.stdin.write('go\n');
  await Promise.all(children.map((c) => c.wrote));
  if (mode === 'send') {
    await allReceived;
    primary.flush();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const c of children) c.proc.stdin.write('close\n');
  const results = await Promise.all(children.map((c) => c.result));
  primary?.close();
  rmSync(dir, { recursive: true, force: true });
  // The first process opened the log first: in 'multi' rows it is the owner.
  const owner = mode === 'multi' && processes > 1 ? results[0].median : undefined;
  const clients = mode === 'multi' && processes > 1 ? results.slice(1) : results;
  const medians = clients.map((r) => r.median).filter((m) => m !== undefined);
  return {
    label,
    durability,
    processes,
    records: per * processes,
    perSecond: (per * processes) / seconds,
    medianUs: medians.length ? medians.sort((a, b) => a - b)[medians.length >> 1] / 1000 : undefined,
    ownerMedianUs: owner === undefined ? undefined : owner / 1000,
    peakRssMb: Math.max(...results.map((r) => r.peakRss)) / 2 ** 20,
  };
}

async function main() {
  const rows = [];
  // What the bench's child holds with no logger at all: every row's peak RSS includes it.
  if (!SYNC_ONLY) rows.push(await row('floor: the same child, payloads made, no logger', 'none', '-', 1, BUFFERED_TOTAL));
  for (const durability of SYNC_ONLY ? ['sync'] : ['buffered', 'sync']) {
    const total = durability === 'buffered' ? BUFFERED_TOTAL : SYNC_TOTAL;
    rows.push(await row('one process alone', 'alone', durability, 1, total));
    for (const n of [1, 2, 4, 8]) rows.push(await row(`multiProcess, ${n} process${n > 1 ? 'es' : ''}`, 'multi', durability, n, total));
  }
  if (!SYNC_ONLY) rows.push(await row('log4js-style process.send to a primary (4 workers)', 'send', 'buffered', 4, BUFFERED_TOTAL / 2));
  if (!SYNC_ONLY) rows.push(await row('O_APPEND, no coordination (UNSAFE: no rollover, torn records), 4 processes', 'append', 'sync', 4, SYNC_TOTAL * 4));
  const alone = Object.fromEntries(rows.filter((r) => r.label === 'one process alone').map((r) => [r.durability, r.perSecond]));
  console.log(`Node ${process.version}, ${process.platform}/${process.arch}; W1 (61-byte ASCII records); maxFileSize ${MAX_FILE_SIZE}`);
  console.log(
    '| row | durability | processes | records | records/s together | vs one process alone | write() median (sync; a client\'s, with several) | peak RSS per process |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const ratio = alone[r.durability] ? (r.perSecond / alone[r.durability]).toFixed(2) + 'x' : '';
    console.log(
      `| ${r.label} | ${r.durability} | ${r.processes} | ${r.records} | ${Math.round(r.perSecond).toLocaleString('en-US')} | ${ratio} | ${r.medianUs === undefined ? '' : r.medianUs.toFixed(1) + ' us'}${r.ownerMedianUs === undefined ? '' : ` (owner ${r.ownerMedianUs.toFixed(1)} us)`} | ${r.peakRssMb.toFixed(0)} MB |`,
    );
  }
}

if (process.argv[2] === 'child') await child(JSON.parse(process.argv[3]));
else await main();
