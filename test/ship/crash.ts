/**
 * Issue 12, item 5: crash scenarios for shipping and pulling, shared by
 * test/ship-crash.test.ts (a few rounds in npm test) and
 * test/ship/crash-loop.ts (`npm run test:ship-crash`, many rounds).
 *
 * Each scenario runs the real `binlog ship`/`binlog pull` (dist/cli/index.js)
 * as child processes, SIGKILLs them (or the server), restarts them, and then
 * checks every record in the stream, or in the central log, one by one:
 * exactly once and in order.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { BinaryLogger, readLog } from '../../src/index.js';
import { LOCK_TAKE_GRACE_MS } from '../../src/lockfile.js';
import { REPO_ROOT, rng } from '../helpers.js';
import { after, before } from 'node:test';
import { NatsServer, streamRecords } from './nats-server.js';
import { waitUntil } from './wait.js';

const BIN = join(REPO_ROOT, 'dist', 'cli', 'index.js');

export interface Child {
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

const running = new Set<ChildProcess>();

/** Remember a child a ship test started, so that killLeftovers() can end it if the test fails first. */
export function track<C extends ChildProcess>(proc: C): C {
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  return proc;
}

/**
 * SIGKILL every tracked child still running: a test that failed while a
 * following `binlog ship`/`pull` ran must not leave it holding the test
 * file's process open (the run would hang). Call it in after().
 */
export function killLeftovers(): void {
  for (const proc of running) proc.kill('SIGKILL');
  running.clear();
}

/**
 * In a describe(): a nats-server started before its tests; after them, any
 * binlog child a failed test left is killed and the server stopped. The
 * value stands for the server (a proxy to the one started).
 */
export function serverForSuite(options?: Parameters<typeof NatsServer.start>[0]): NatsServer {
  let current: NatsServer | undefined;
  before(async () => {
    current = await NatsServer.start(options);
  });
  after(async () => {
    killLeftovers();
    await current?.stop();
  });
  return new Proxy({} as NatsServer, {
    get(_, key) {
      if (!current) throw new Error("the suite's nats-server is not started yet");
      const value: unknown = Reflect.get(current, key);
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}

/** Start `binlog args...`; `exited` resolves with how it ended and its stderr. */
export function startBin(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = track(spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { proc, exited };
}

/** Run `binlog args...` to its end; asserts exit 0. */
export async function runBin(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await startBin(args, env).exited;
  assert.equal(r.code, 0, `binlog ${args.join(' ')} exited ${r.code ?? r.signal}: ${r.stderr}`);
  return r.stderr;
}

/** A record a round can recognise: `<tag> <n> <padding>`, of varied length. */
export function record(tag: string, n: number): Buffer {
  return Buffer.from(`${tag} ${n} ${'.'.repeat((n * 7) % 40)}`);
}

export function appendRecords(path: string, tag: string, from: number, to: number, maxFileSize: number): void {
  using logger = new BinaryLogger(path, { maxFileSize });
  for (let n = from; n < to; n++) logger.write(record(tag, n));
}

const logRecords = (path: string): Buffer[] => [...readLog(path, { encoding: 'buffer' })];

/** Assert the stream holds exactly the log's records, once each, in order; a readable diff on failure. */
export async function assertStreamMatchesLog(url: string, stream: string, subject: string, path: string): Promise<void> {
  const inStream = (await streamRecords(url, stream, subject)).payloads;
  const inLog = logRecords(path);
  for (let i = 0; i < Math.max(inStream.length, inLog.length); i++) {
    if (!inStream[i] || !inLog[i] || !inStream[i]!.equals(inLog[i]!)) {
      assert.fail(`record ${i}: stream has ${String(inStream[i])}, log has ${String(inLog[i])} (${inStream.length} in stream, ${inLog.length} in log)`);
    }
  }
}

const shipArgs = (path: string, url: string, stream: string, subject: string): string[] => [
  'ship', path, '--server', url, '--stream', stream, '--subject', subject, '--max-batch', '2048', '--duplicate-window', '1000',
];

/**
 * SIGKILL the shipper at random moments, `rounds` times, with records
 * appended (and rollovers) between rounds; then one clean run. Every record
 * must be in the stream once, in order.
 */
export async function shipperKilledAtRandom(server: NatsServer, dir: string, rounds: number, seed: number): Promise<void> {
  const random = rng(seed);
  const path = join(dir, `random-${seed}`, 'events.bin');
  const stream = `KILL${seed}`;
  const subject = `logs.kill${seed}`;
  let written = 0;
  for (let round = 0; round < rounds; round++) {
    appendRecords(path, 'r', written, written + 2000, 8192);
    written += 2000;
    const child = startBin(shipArgs(path, server.url, stream, subject));
    await new Promise((r) => setTimeout(r, 50 + random() * 400));
    child.proc.kill('SIGKILL');
    await child.exited;
  }
  await runBin([...shipArgs(path, server.url, stream, subject), '--once']);
  await assertStreamMatchesLog(server.url, stream, subject, path);
}

/**
 * The shipper kills itself right after the server acknowledged a message and
 * before the checkpoint says so; the restart comes after the duplicate
 * window (1 s) is over, so only the resume walk keeps it from republishing.
 */
export async function shipperKilledBetweenAckAndCheckpoint(server: NatsServer, dir: string, killAfterAcks: number[]): Promise<void> {
  const path = join(dir, 'ack', 'events.bin');
  // Enough for every run to be killed: a run stores at most 16 messages in flight (~67 records each) beyond its acks.
  appendRecords(path, 'a', 0, 6000 * killAfterAcks.length, 4096);
  const args = shipArgs(path, server.url, 'ACK', 'logs.ack');
  for (const k of killAfterAcks) {
    const r = await startBin([...args, '--once'], { BINLOG_SHIP_TEST_KILL_AFTER_ACKS: String(k) }).exited;
    assert.equal(r.signal, 'SIGKILL', `the shipper was to kill itself after ack ${k}: ${r.stderr}`);
    // Past the duplicate window: the server no longer remembers the ids.
    await new Promise((res) => setTimeout(res, 1200));
  }
  await runBin([...args, '--once']);
  await assertStreamMatchesLog(server.url, 'ACK', 'logs.ack', path);
}

/** SIGKILL nats-server while a following shipper ships, restart it; everything arrives once. Returns the restarted server. */
export async function serverKilledWhileShipping(server: NatsServer, dir: string): Promise<NatsServer> {
  const path = join(dir, 'srv', 'events.bin');
  appendRecords(path, 's', 0, 3000, 8192);
  const shipper = startBin(shipArgs(path, server.url, 'SRV', 'logs.srv'));
  let written = 3000;
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 150));
    await server.kill();
    appendRecords(path, 's', written, written + 2000, 8192);
    written += 2000;
    server = await server.restart();
  }
  // Wait until the shipper has caught up, then stop it cleanly.
  const inStream = async (): Promise<number> => (await streamRecords(server.url, 'SRV', 'logs.srv').catch(() => ({ payloads: [] }))).payloads.length;
  await waitUntil(`${written} records in the stream`, async () => (await inStream()) >= written, { interval: 100, state: async () => `${await inStream()} records` });
  shipper.proc.kill('SIGTERM');
  const end = await shipper.exited;
  assert.equal(end.code, 0, end.stderr);
  await assertStreamMatchesLog(server.url, 'SRV', 'logs.srv', path);
  return server;
}

/**
 * True (after waiting) if a puller was refused because the one before it
 * was killed inside its takeover of the dead holder's lock, between
 * creating its claim and writing it: the log stays refused for
 * LOCK_TAKE_GRACE_MS (src/lockfile.ts), so wait that out.
 */
async function waitedOutTakeover(r: { code: number | null; stderr: string }): Promise<boolean> {
  if (r.code !== 1 || !/ERR_LOGGER_PATH_IN_USE/.test(r.stderr)) return false;
  await new Promise((resolve) => setTimeout(resolve, LOCK_TAKE_GRACE_MS + 500));
  return true;
}

/**
 * SIGKILL the puller at random moments and right after it appended a
 * message's records but before its checkpoint; the central log must end up
 * holding the stream's records once each, in order, record by record.
 */
export async function pullerKilled(server: NatsServer, dir: string, rounds: number, seed: number): Promise<void> {
  const random = rng(seed);
  const src = join(dir, `pull-src-${seed}`, 'events.bin');
  const stream = `PULL${seed}`;
  appendRecords(src, 'p', 0, 20_000, 8192);
  await runBin([...shipArgs(src, server.url, stream, `logs.pull${seed}`), '--once']);
  const central = join(dir, `central-${seed}`, 'all.bin');
  const pullArgs = ['pull', central, '--server', server.url, '--stream', stream, '--max-size', '16384'];
  for (let round = 0; round < rounds; round++) {
    const selfKill = round % 2 === 0;
    const child = startBin(pullArgs, selfKill ? { BINLOG_PULL_TEST_KILL_AFTER_MESSAGES: String(1 + Math.floor(random() * 20)) } : {});
    if (!selfKill) {
      await new Promise((r) => setTimeout(r, 30 + random() * 200));
      child.proc.kill('SIGKILL');
    }
    const r = await child.exited;
    if (await waitedOutTakeover(r)) continue;
    assert.ok(r.signal === 'SIGKILL' || r.code === 0, r.stderr);
  }
  const last = await startBin([...pullArgs, '--once']).exited;
  if (await waitedOutTakeover(last)) await runBin([...pullArgs, '--once']);
  else assert.equal(last.code, 0, last.stderr);
  const inStream = (await streamRecords(server.url, stream)).payloads;
  const inLog = logRecords(central);
  assert.equal(inLog.length, inStream.length);
  for (let i = 0; i < inStream.length; i++) assert.ok(inLog[i]!.equals(inStream[i]!), `record ${i}: ${String(inLog[i])} != ${String(inStream[i])}`);
}
