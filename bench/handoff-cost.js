// Why 'sync' threads do not combine on this machine (issue 13, docs/ARCHITECTURE.md):
// the cost of a cross-thread hand-off, spinning and sleeping, and of write(2)s of one
// record from one thread vs two threads (own files). Run alone: flock -x /work/cpu.lock node bench/handoff-cost.js
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { openSync, writeSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
const N = 200000;
if (isMainThread) {
  for (const mode of ['spin', 'sleep']) {
    const sab = new SharedArrayBuffer(256);
    const ws = [0, 1].map((me) => new Worker(new URL(import.meta.url), { workerData: { kind: 'pp', sab, me, mode } }));
    const t0 = process.hrtime.bigint();
    await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
    console.log(`${mode} ping-pong: ${(Number(process.hrtime.bigint() - t0) / N / 1000).toFixed(2)} us per round trip`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'pp-'));
  for (const n of [1, 2]) {
    const go = new SharedArrayBuffer(4);
    const ws = Array.from({ length: n }, (_, i) => new Worker(new URL(import.meta.url), { workerData: { kind: 'w', file: join(dir, `f${n}-${i}`), go } }));
    await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
    const t0 = process.hrtime.bigint();
    Atomics.store(new Int32Array(go), 0, 1); Atomics.notify(new Int32Array(go), 0);
    await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
    console.log(`${n} threads each 400k write(2)s of 68 B to own file: ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0)} ms`);
  }
} else if (workerData.kind === 'pp') {
  const { sab, me, mode } = workerData;
  const a = new Int32Array(sab);
  for (let i = 0; i < N; i++) {
    const want = 2 * i + me;
    if (mode === 'spin') while (Atomics.load(a, 0) !== want);
    else while (Atomics.load(a, 0) !== want) Atomics.wait(a, 0, Atomics.load(a, 0) === want ? -1 : Atomics.load(a, 0));
    Atomics.store(a, 0, want + 1);
    if (mode === 'sleep') Atomics.notify(a, 0);
  }
  parentPort.postMessage('done');
} else {
  const fd = openSync(workerData.file, 'a');
  const b = Buffer.alloc(68, 65);
  for (let i = 0; i < 20000; i++) writeSync(fd, b);
  parentPort.postMessage('ready');
  Atomics.wait(new Int32Array(workerData.go), 0, 0);
  for (let i = 0; i < 400000; i++) writeSync(fd, b);
  parentPort.postMessage('done');
}
