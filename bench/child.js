// One measurement, in a fresh process: load the payloads, prepare the
// contender, then time its run(). Prints one line `BENCH_RESULT <json>`:
// elapsed ns, peak RSS during the run, RSS before it, and (for readers)
// what the reader yielded.
//
// Usage (by run.js): node --expose-gc bench/child.js '<json spec>'
//   spec = { workload, contender, count, input, dir, maxFileSize, cpuProf?: { dir, name } }

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTENDERS } from './contenders.js';
import { loadPayloads } from './payloads.js';

const spec = JSON.parse(process.argv[2]);
const contender = CONTENDERS[spec.contender];
if (!contender) throw new Error(`unknown contender ${spec.contender}`);

const gc = typeof globalThis.gc === 'function' ? globalThis.gc : () => {};

/**
 * Reset the kernel's peak-RSS mark (Linux: /proc/self/clear_refs, 5), so
 * that the peak read after the run (peakRss) is the peak *during* the run,
 * not during the loading of payloads before it. False where impossible.
 */
function resetPeakRss() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Peak RSS of this process, bytes. Linux: VmHWM from /proc/self/status, the
 * mark that resetPeakRss() resets. Not process.resourceUsage().maxRSS:
 * getrusage() keeps the larger of that mark and the RSS the process had
 * before exec(), i.e. the parent's RSS when it forked this child.
 */
function peakRss() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

const needsPayloads = contender.output !== 'self' && contender.output !== 'threads';
const ctx = {
  cpuProf: spec.cpuProf,
  workload: spec.workload,
  count: spec.count,
  input: spec.input,
  dir: spec.dir,
  maxFileSize: spec.maxFileSize ?? Infinity,
  payloads: needsPayloads ? loadPayloads(spec.workload, spec.input, 0, spec.count) : undefined,
};
if (ctx.payloads && ctx.payloads.length !== spec.count) throw new Error('payload count mismatch');

const prepared = await contender.prepare(ctx);
gc();
gc();
const peakReset = resetPeakRss();
const rssBefore = process.memoryUsage.rss();

const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const out = await prepared.run();
const t1 = process.hrtime.bigint();
const cpu = process.cpuUsage(cpu0); // every thread of the process: user + system
if (spec.cpuProf) {
  // --cpu-prof: V8 profiles the whole process (and each worker); this marks
  // the timed window on the same monotonic clock, in microseconds, for
  // cpuprofile-top.js to keep only the samples taken inside it.
  mkdirSync(spec.cpuProf.dir, { recursive: true });
  writeFileSync(join(spec.cpuProf.dir, `${spec.cpuProf.name}.window.json`), JSON.stringify({ from: Number(t0 / 1000n), to: Number(t1 / 1000n) }));
}

const peak = peakRss();
const result = {
  ns: Number(t1 - t0),
  cpuUs: cpu.user + cpu.system,
  sysUs: cpu.system,
  peakRss: peak,
  rssBefore,
  peakReset,
  out: typeof out === 'object' ? out : out === undefined ? null : out,
};
if (prepared.check) result.yielded = prepared.check();
if (prepared.cleanup) await prepared.cleanup();
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
// Pipes are synchronous on POSIX: the line is out. Do not wait for a peer's exit hooks.
process.exit(0);
