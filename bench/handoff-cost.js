// Why 'sync' threads do not combine on this machine (issue 13, docs/ARCHITECTURE.md):
// the cost of a cross-thread hand-off, spinning and sleeping, and of write(2)s of one
// record from one thread vs two threads (own files); then the ceiling of combining: an
// ideal sticky combiner (no library, one slot, the other thread only publishes and
// spins) against the same loop alone. Run alone: flock -x /work/cpu.lock node bench/handoff-cost.js
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
  // 'alone': the combiner's loop with nobody to combine; 'combine': another thread
  // publishes a record whenever its last one is written, and the combiner writes it
  // after its own in the same write(2); 'wait': the combiner also waits (spins) for
  // that record before each write(2), so every write(2) carries two records.
  for (const mode of ['alone', 'combine', 'wait']) {
    const sab = new SharedArrayBuffer(4096);
    const roles = mode === 'alone' ? ['H'] : ['H', 'O'];
    const ws = roles.map((role) => new Worker(new URL(import.meta.url), { workerData: { kind: 'c', role, sab, mode, file: join(dir, `c-${mode}`) } }));
    const [h] = await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
    console.log(`ideal combiner, ${mode.padEnd(7)}: ${(h.recs / h.ms / 1000).toFixed(2)} M records/s, ${(h.recs / h.writes).toFixed(2)} records per write(2), ${((h.ms * 1000) / h.writes).toFixed(2)} us per write(2) cycle`);
  }
} else if (workerData.kind === 'c') {
  const { role, sab, mode, file } = workerData;
  const i32 = new Int32Array(sab);
  const u8 = new Uint8Array(sab);
  // [0] stop; the slot's state (1 = READY, 2 = written) on a line of its own, its length on another, its data after.
  const STATE = 32, LEN = 64, DATA = 512, COUNT = 400000;
  const rec = Buffer.alloc(68, role === 'H' ? 72 : 79);
  if (role === 'H') {
    const fd = openSync(file, 'a');
    const batch = Buffer.alloc(4096);
    for (let i = 0; i < 50000; i++) writeSync(fd, rec);
    let recs = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < COUNT; i++) {
      for (let k = 0; k < 68; k++) batch[k] = rec[k];
      let end = 68;
      if (mode === 'wait') for (let s = 0; s < 3000 && Atomics.load(i32, STATE) !== 1; s++);
      const other = Atomics.load(i32, STATE) === 1;
      if (other) {
        const len = i32[LEN];
        for (let k = 0; k < len; k++) batch[end + k] = u8[DATA + k];
        end += len;
      }
      writeSync(fd, batch, 0, end);
      if (other) Atomics.store(i32, STATE, 2);
      recs += other ? 2 : 1;
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    Atomics.store(i32, 0, 1);
    parentPort.postMessage({ ms, recs, writes: COUNT });
  } else {
    parentPort.postMessage({});
    while (Atomics.load(i32, 0) === 0) {
      for (let k = 0; k < 68; k++) u8[DATA + k] = rec[k];
      i32[LEN] = 68;
      Atomics.store(i32, STATE, 1);
      while (Atomics.load(i32, STATE) === 1 && Atomics.load(i32, 0) === 0);
    }
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
