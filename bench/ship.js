// Issue 12, item 2: shipping W1 (1,000,000 records of 61 bytes) to a local
// nats-server, batched and one record per message, and pulling it back, each
// in a fresh child process with its peak RSS: the VmHWM of that child alone
// (the log is written by this parent, the server is another process). The
// floor row is a child that only imports the NATS client; the backlog rows
// ship and pull three times W1, to show memory does not grow with it.
//
//   node bench/ship.js [--records N] [--single-records N]
//
// Needs nats-server on the PATH and a built dist/ (npm run build). The
// one-per-message run ships all of W1 too (about 20 s at 50k messages/s):
// its young generation grows with the run's length, so a shorter run would
// understate its peak (100,000 records peak at 75 MB, a million at 92 MB).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { table } from './fmt.js';
import { ascii61 } from './payloads.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dist = (p) => join(ROOT, 'dist', p);

/** Peak RSS of this process (VmHWM), bytes. */
function peakRss() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

async function child(mode, path, url, stream, subject) {
  if (mode === 'floor') {
    // What `node -e "await import('nats')"` costs: no shipper can go below it.
    await import('nats');
    process.stdout.write(JSON.stringify({ ns: 0, records: 0, messages: 0, peakRss: peakRss() }));
    return;
  }
  const { ship, pull } = await import(dist('ship/index.js'));
  const start = process.hrtime.bigint();
  let r;
  if (mode === 'pull') r = await pull(path, { servers: url, stream, once: true }).done;
  else r = await ship(path, { servers: url, stream, subject, once: true, onePerMessage: mode === 'single' }).done;
  const ns = Number(process.hrtime.bigint() - start);
  process.stdout.write(JSON.stringify({ ns, records: r.records, messages: r.messages ?? r.streamSeq, peakRss: peakRss() }));
}

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const canConnect = (port) =>
  new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

async function writeW1(path, count) {
  const { BinaryLogger } = await import(dist('index.js'));
  const logger = new BinaryLogger(path, { maxFileSize: 64 << 20, durability: 'buffered' });
  for (let i = 0; i < count; i++) logger.write(ascii61(i));
  logger.close();
}

function runChild(args) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child ${args[0]} exited ${code}`))));
  });
}

async function main() {
  const { values } = parseArgs({ options: { records: { type: 'string' }, 'single-records': { type: 'string' } } });
  const records = Number(values.records ?? 1_000_000);
  const single = Number(values['single-records'] ?? records);
  if (spawnSync('sh', ['-c', 'command -v nats-server']).status !== 0) {
    console.log('bench/ship.js: skipped, nats-server is not installed (apt-get install nats-server)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'binlog-bench-ship-'));
  const port = await freePort();
  const server = spawn('nats-server', ['-js', '-sd', join(dir, 'js'), '-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  try {
    while (!(await canConnect(port))) await new Promise((r) => setTimeout(r, 20));
    const url = `nats://127.0.0.1:${port}`;
    const w1 = join(dir, 'w1', 'events.bin');
    const w1single = single === records ? w1 : join(dir, 'w1-single', 'events.bin');
    const w1big = join(dir, 'w1-backlog', 'events.bin');
    await writeW1(w1, records);
    if (w1single !== w1) await writeW1(w1single, single);
    await writeW1(w1big, records * 3);
    const rows = [];
    const raw = [];
    const add = (label, r) => {
      raw.push({ label, ...r });
      const s = r.ns / 1e9;
      const rate = (v) => (s > 0 ? v : '-');
      rows.push([label, r.records.toLocaleString('en-US'), r.messages.toLocaleString('en-US'), rate(s.toFixed(2)), rate(Math.round(r.records / s).toLocaleString('en-US')), rate(((r.records * 65) / s / 1e6).toFixed(1)), (r.peakRss / 2 ** 20).toFixed(0)]);
    };
    add('floor: node, import nats, nothing else', await runChild(['floor', '', url, '', '']));
    add('ship, batched (64 KiB messages)', await runChild(['batched', w1, url, 'BENCH', 'bench.batched']));
    add('ship, one record per message', await runChild(['single', w1single, url, 'BENCH1', 'bench.single']));
    add('pull, batched stream', await runChild(['pull', join(dir, 'central', 'all.bin'), url, 'BENCH', '']));
    add('ship, batched, 3x backlog', await runChild(['batched', w1big, url, 'BENCH3', 'bench.backlog']));
    add('pull, batched stream, 3x backlog', await runChild(['pull', join(dir, 'central3', 'all.bin'), url, 'BENCH3', '']));
    console.log(`node ${process.version}, nats-server ${spawnSync('nats-server', ['--version'], { encoding: 'utf8' }).stdout.trim()}, loopback, file storage`);
    console.log(table(['W1 (61-byte records)', 'records', 'messages', 's', 'records/s', 'MB/s', 'peak RSS MB'], rows, 'lrrrrrr'));
    console.log(`\n${targets(raw)}`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Issue 12's targets, as far as this run measured them: batched shipping speed, and every shipper's and puller's peak RSS. */
function targets(raw) {
  const out = [];
  const batched = raw.find((r) => r.label.startsWith('ship, batched (') && r.ns > 0);
  if (batched) {
    const rate = batched.records / (batched.ns / 1e9);
    out.push(['ship W1 batched, records/s', Math.round(rate).toLocaleString('en-US'), '>= 100,000', rate >= 100_000 ? 'met' : '**missed**']);
  }
  for (const r of raw.filter((x) => x.ns > 0)) {
    const mb = r.peakRss / 2 ** 20;
    out.push([`peak RSS: ${r.label}`, `${mb.toFixed(0)} MB`, '< 100 MB', mb < 100 ? 'met' : '**missed**']);
  }
  return table(['target (issue 12)', 'this run', 'goal', ''], out, 'lrll');
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') await child(...argv.slice(1));
else await main();
