// T1 worker thread. Untimed: attach to the scratch log and the measured log,
// load this thread's share of the records and write a warm-up batch of them
// into the scratch log (so V8 has compiled the write path, as in a
// long-lived writer thread), report 'ready', then wait at the barrier.
// Timed: from the barrier, write the share `passes` times into the measured
// log, flush, report 'done'. Detaching is untimed (cleanup sends 'close').

import { parentPort, workerData } from 'node:worker_threads';
import { BinaryLogger } from '../dist/index.js';
import { loadPayloads } from './payloads.js';

const { handle, scratch, barrier, workload, input, lo, hi, passes, warmup } = workerData;
const payloads = loadPayloads(workload, input, lo, hi);
const warm = BinaryLogger.attach(scratch);
for (let i = 0, n = Math.min(warmup, payloads.length); i < n; i++) warm.write(payloads[i]);
warm.close();
const logger = BinaryLogger.attach(handle);
if (typeof globalThis.gc === 'function') globalThis.gc();

const go = new Int32Array(barrier);
parentPort.postMessage('ready');
// The barrier: every thread starts together, when the parent flips the word.
Atomics.wait(go, 0, 0);
for (let pass = 0; pass < passes; pass++) {
  for (let i = 0; i < payloads.length; i++) logger.write(payloads[i]);
}
logger.flush();
parentPort.postMessage('done');
parentPort.once('message', () => {
  logger.close();
  parentPort.postMessage('closed');
});
