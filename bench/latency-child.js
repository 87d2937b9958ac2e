// One L1 measurement, in a fresh process: fork latency-writer.js, follow
// what it appends, and take, for each record, the time it was seen here
// minus the time it was written there. Prints one line `BENCH_RESULT <json>`
// with the latencies in microseconds, in record order, warm-up excluded.
//
// Usage (by run.js): node bench/latency-child.js '<json spec>'
//   spec = { contender: 'follow' | 'tail-F', dir, count, warmup, intervalMs }
//
// 'follow': the library's follow() on a binary log written by BinaryLogger
// ('sync'). 'tail-F': GNU `tail -F` on a text file written a line at a time,
// its stdout read here: the tool people compare follow() with.

import { spawn, fork } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { follow } from '../dist/index.js';

const spec = JSON.parse(process.argv[2]);
const { contender, dir, count, warmup, intervalMs } = spec;
const total = warmup + count;
const WRITER = fileURLToPath(new URL('./latency-writer.js', import.meta.url));
// The run takes total * intervalMs; anything far beyond is a hang.
const TIMEOUT_MS = total * intervalMs + 30_000;

let writer;
let tail;

function finish(result) {
  // Leave no process behind, whether the run ended or failed (the writer ends on its own when it is done).
  if (writer?.exitCode === null) writer.kill();
  if (tail?.exitCode === null) tail.kill();
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

const latenciesUs = [];
let expected = 0;

/**
 * Take one record seen at `seenNs`: 'hello' starts the writer; a timed
 * record adds its latency. Returns true after the last one.
 */
function onRecord(text, seenNs) {
  if (text === 'hello') {
    writer.send('go');
    return false;
  }
  const [index, stamp] = text.split(' ', 2);
  if (Number(index) !== expected) finish({ error: `record ${index} where ${expected} was expected (lost, repeated or out of order)` });
  if (expected >= warmup) latenciesUs.push(Number(seenNs - BigInt(stamp)) / 1000);
  expected++;
  return expected === total;
}

const timer = setTimeout(() => finish({ error: `timed out after ${TIMEOUT_MS} ms with ${expected} of ${total} records` }), TIMEOUT_MS);
timer.unref();

function startWriter(sink, path) {
  writer = fork(WRITER, [JSON.stringify({ sink, path, total, intervalMs })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  writer.on('exit', (code) => {
    if (code !== 0) finish({ error: `writer exited with ${code} after ${expected} of ${total} records` });
  });
}

if (contender === 'follow') {
  const path = join(dir, 'log.bin');
  // From the start, waiting for the log: the writer's 'hello' may land before or after follow() first looks. Leaving the loop (break) closes its watcher.
  const records = follow(path, { fromStart: true, encoding: 'buffer', waitForLog: true });
  startWriter('binlog', path);
  for await (const record of records) {
    if (onRecord(record.toString('latin1'), process.hrtime.bigint())) break;
  }
} else if (contender === 'tail-F') {
  const path = join(dir, 'log.txt');
  writeFileSync(path, '');
  tail = spawn('tail', ['-n', '+1', '-F', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let failed = '';
  tail.stderr.setEncoding('utf8').on('data', (d) => (failed += d));
  tail.on('error', (err) => finish({ error: `tail: ${err.code ?? err.message}` }));
  tail.on('exit', (code) => {
    if (expected < total) finish({ error: `tail exited with ${code}: ${failed.trim()}` });
  });
  await new Promise((resolve) => {
    let rest = '';
    tail.stdout.setEncoding('latin1').on('data', (chunk) => {
      // Every line of one chunk arrived at once: one reading of the clock for all.
      const seen = process.hrtime.bigint();
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const line of lines) if (onRecord(line, seen)) resolve();
    });
    startWriter('text', path);
  });
  tail.removeAllListeners('exit');
  // tail -F only speaks on stderr when it is not doing what is measured, e.g.
  // "inotify resources exhausted; reverting to polling": then the row is wrong.
  if (failed.trim()) finish({ error: `tail: ${failed.trim().split('\n').join('; ')}` });
} else throw new Error(`unknown latency contender ${contender}`);

// The writer closes its log after the last record: let it, rather than kill it mid-close.
if (writer.exitCode === null) await once(writer, 'exit');
finish({ latenciesUs: latenciesUs.map((x) => Math.round(x * 10) / 10) });
