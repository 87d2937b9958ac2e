// T1 worker thread: attach to the shared log, load this thread's share of
// the records, report 'ready', and on 'go' write them, close (detach) and
// report 'done'. Only the writes and the close are timed (by the parent).

import { parentPort, workerData } from 'node:worker_threads';
import { BinaryLogger } from '../dist/index.js';
import { loadPayloads } from './payloads.js';

const { handle, workload, input, lo, hi } = workerData;
const payloads = loadPayloads(workload, input, lo, hi);
const logger = BinaryLogger.attach(handle);
if (typeof globalThis.gc === 'function') globalThis.gc();

parentPort.once('message', () => {
  for (let i = 0; i < payloads.length; i++) logger.write(payloads[i]);
  logger.close();
  parentPort.postMessage('done');
});
parentPort.postMessage('ready');
