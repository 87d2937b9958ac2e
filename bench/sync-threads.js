// 'sync' threads (issue 13, docs/ARCHITECTURE.md): throughput, write(2)s per
// record and write() latency (median, p99 per thread) with 1, 2, 4 and 8
// worker threads sharing one log, each writing `--count / threads` records
// of 61 bytes after an untimed warm-up. An experiment tool beside T1 (which
// is the measure of record). Run alone:
//   flock -x /work/cpu.lock node bench/sync-threads.js [--count 400000] [--threads 1,2,4,8]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { BinaryLogger } from '../dist/index.js';

const payload = (t, i) => `event ${i} user=u${t} action=view sid=${(i * 7919) % 100000}`.padEnd(61, '.');

if (isMainThread) {
  const arg = (name, dflt) => {
    const at = process.argv.indexOf(`--${name}`);
    return at >= 0 ? process.argv[at + 1] : dflt;
  };
  const count = Number(arg('count', '400000'));
  const threads = arg('threads', '1,2,4,8').split(',').map(Number);
  const durability = arg('durability', 'sync');
  let base;
  for (const n of threads) {
    const dir = mkdtempSync(join(tmpdir(), 'sync-threads-'));
    const logger = new BinaryLogger(join(dir, 'events.bin'), { durability, maxFileSize: 64 * 1024 * 1024 });
    const scratch = new BinaryLogger(join(dir, 'scratch.bin'), { durability, maxFileSize: 64 * 1024 * 1024 });
    const control = new SharedArrayBuffer(4 * 16);
    const ws = Array.from({ length: n }, (_, t) => new Worker(new URL(import.meta.url), {
      workerData: { t, handle: logger.share(), scratch: scratch.share(), control, count: Math.floor(count / n) },
    }));
    const ready = ws.map((w) => new Promise((r) => w.once('message', r)));
    await Promise.all(ready);
    const done = ws.map((w) => new Promise((r) => w.once('message', r)));
    const c = new Int32Array(control);
    const t0 = process.hrtime.bigint();
    Atomics.store(c, 0, 1);
    Atomics.notify(c, 0);
    const results = await Promise.all(done);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    await Promise.all(ws.map((w) => w.terminate()));
    logger.close();
    scratch.close();
    rmSync(dir, { recursive: true, force: true });
    const recs = Math.floor(count / n) * n;
    const rate = recs / ms / 1000;
    base ??= rate;
    const writes = Atomics.load(c, 1);
    const med = results.map((r) => r.median.toFixed(1)).join('/');
    const per = Array.from({ length: n }, (_, t) => Atomics.load(c, 4 + t)).join('/');
    const p99 = results.map((r) => r.p99.toFixed(0)).join('/');
    console.log(`${durability} ${n} thr: ${rate.toFixed(3)} M rec/s (${(rate / base).toFixed(2)}x)  records/write ${(recs / writes).toFixed(2)}  write() us median ${med}  p99 ${p99}  writes by thread ${per}`);
  }
} else {
  const { t, handle, scratch, control, count } = workerData;
  const c = new Int32Array(control);
  const fs = { writeSync: (...a) => (Atomics.add(c, 1, 1), Atomics.add(c, 4 + t, 1), writeSync(...a)) };
  const warm = BinaryLogger.attach(scratch);
  for (let i = 0; i < 20000; i++) warm.write(payload(t, i));
  warm.close();
  const logger = BinaryLogger.attach(handle, { fs: { ...(await import('../dist/fsops.js')).nodeFs, ...fs } });
  const records = Array.from({ length: count }, (_, i) => payload(t, i));
  const lat = new Float64Array(count >> 4);
  parentPort.postMessage('ready');
  Atomics.wait(c, 0, 0);
  for (let i = 0; i < count; i++) {
    if ((i & 15) === 0) {
      const a = process.hrtime.bigint();
      logger.write(records[i]);
      lat[i >> 4] = Number(process.hrtime.bigint() - a) / 1000;
    } else logger.write(records[i]);
  }
  lat.sort();
  parentPort.postMessage({ median: lat[lat.length >> 1], p99: lat[Math.floor(lat.length * 0.99)] });
  logger.close();
}
