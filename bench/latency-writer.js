// L1's writer: a separate process that appends records at a steady pace,
// each carrying the time it was handed to the OS, for latency-child.js to
// measure how long a follower takes to see it.
//
// Usage (forked by latency-child.js, with an IPC channel):
//   node bench/latency-writer.js '<json spec>'
//   spec = { sink: 'binlog' | 'text', path, total, intervalMs }
//
// It writes one 'hello' record, waits for the follower's 'go' (so the
// follower is watching before the first timed record), then `total` records
// `<i> <t>` padded to 61 bytes like W1, t being process.hrtime.bigint() just
// before the write: CLOCK_MONOTONIC, one clock for every process of the
// machine (Linux), so the follower can subtract it from its own reading.

import { closeSync, openSync, writeSync } from 'node:fs';
import { BinaryLogger } from '../dist/index.js';

const { sink, path, total, intervalMs } = JSON.parse(process.argv[2]);
const PAD = '.'.repeat(61);

// One write(2) per record in both sinks: 'sync' hands each record to the OS
// before write() returns, as appending a line with writeSync does.
let append;
let close;
if (sink === 'binlog') {
  const logger = new BinaryLogger(path, { maxFileSize: 64 * 1024 * 1024, durability: 'sync' });
  append = (s) => logger.write(s);
  close = () => logger.close();
} else {
  const fd = openSync(path, 'a');
  append = (s) => writeSync(fd, `${s}\n`);
  close = () => closeSync(fd);
}

// The follower gone (it failed or timed out) leaves nobody to write for.
process.once('disconnect', () => process.exit(0));
append('hello');
process.once('message', () => {
  const start = performance.now();
  let i = 0;
  const step = () => {
    const line = `${i} ${process.hrtime.bigint()} `;
    append(line + PAD.slice(line.length));
    i++;
    if (i === total) {
      close();
      process.disconnect();
      return;
    }
    // Aim at start + i * interval, not at now + interval: the pace stays steady when a timer fires late.
    setTimeout(step, Math.max(0, start + i * intervalMs - performance.now()));
  };
  step();
});
