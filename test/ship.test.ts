/**
 * Issue 12: shipping a log to NATS JetStream and pulling many machines' logs
 * into one, against a real nats-server the tests start (skipped, with the
 * reason, when nats-server is not installed).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BinaryLogger, readLog } from '../src/index.js';
import { pull, ship } from '../src/ship/index.js';
import { pullCheckpointPath } from '../src/ship/checkpoint.js';
import { REPO_ROOT, tempDir } from './helpers.js';
import { SKIP_NO_SERVER, freePort, streamRecords } from './ship/nats-server.js';
import { serverForSuite, track } from './ship/crash.js';
import { waitUntil } from './ship/wait.js';

const BIN = join(REPO_ROOT, 'dist', 'cli', 'index.js');

/** Payloads of every kind: empty, binary, text, one near a batch boundary. */
function payloads(n: number, tag: string): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 97 === 0) out.push(Buffer.alloc(0));
    else if (i % 13 === 0) out.push(Buffer.from([0, 255, i & 255, 10, 13]));
    else out.push(Buffer.from(`${tag} record ${i} ${'x'.repeat(i % 50)}`));
  }
  return out;
}

function writeLog(path: string, records: Buffer[], maxFileSize = 4096): void {
  using logger = new BinaryLogger(path, { maxFileSize });
  for (const r of records) logger.write(r);
}

const readAll = (path: string): Buffer[] => [...readLog(path, { encoding: 'buffer' })];

function runBin(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = track(spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('ship and pull against a real nats-server', { skip: SKIP_NO_SERVER }, () => {
  const server = serverForSuite();

  for (const onePerMessage of [false, true]) {
    test(`ship --once then pull --once round-trips byte-exact (${onePerMessage ? 'one record per message' : 'batched'})`, async (t) => {
      const dir = tempDir(t);
      const src = join(dir, 'src', 'events.bin');
      const records = payloads(onePerMessage ? 600 : 3000, 'rt');
      writeLog(src, records);
      const stream = onePerMessage ? 'RT1' : 'RTB';
      const r = await ship(src, { servers: server.url, stream, subject: `logs.${stream}`, once: true, onePerMessage, maxBatchBytes: 8192 }).done;
      assert.equal(r.records, records.length);
      if (onePerMessage) assert.equal(r.messages, records.length);
      else assert.ok(r.messages > 1 && r.messages < records.length / 10, `${r.messages} messages`);
      const inStream = await streamRecords(server.url, stream);
      assert.deepEqual(inStream.payloads, records);
      // A second run ships nothing: the checkpoint and the stream agree.
      const again = await ship(src, { servers: server.url, stream, subject: `logs.${stream}`, once: true, onePerMessage }).done;
      assert.equal(again.records, 0);
      const central = join(dir, 'central', 'all.bin');
      const p = await pull(central, { servers: server.url, stream, once: true, maxFileSize: 10_000 }).done;
      assert.equal(p.records, records.length);
      assert.deepEqual(readAll(central), records);
      assert.equal((await pull(central, { servers: server.url, stream, once: true }).done).records, 0);
      assert.deepEqual(readAll(central), records);
    });
  }

  test('a following puller makes records visible in the central log on its flush timer, long before its next checkpoint', async (t) => {
    const dir = tempDir(t);
    const src = join(dir, 'src', 'events.bin');
    const records = payloads(500, 'vis');
    writeLog(src, records);
    await ship(src, { servers: server.url, stream: 'VIS', subject: 'logs.vis', once: true }).done;
    const central = join(dir, 'central', 'all.bin');
    // No checkpoint for ten minutes: only the log's own flush timer can show the records.
    const puller = pull(central, { servers: server.url, stream: 'VIS', checkpointInterval: 600_000 });
    await waitUntil('the pulled records in the central log', () => existsSync(central) && readAll(central).length === records.length, {
      state: () => `${existsSync(central) ? readAll(central).length : 0} records`,
    });
    assert.deepEqual(readAll(central), records);
    const checkpoint = (): { streamSeq: number } => JSON.parse(readFileSync(pullCheckpointPath(central, 'VIS', '>'), 'utf8')) as { streamSeq: number };
    assert.equal(checkpoint().streamSeq, 0, 'the first checkpoint only, written at start');
    puller.stop();
    const result = await puller.done;
    assert.equal(result.records, records.length);
    assert.equal(checkpoint().streamSeq, result.streamSeq);
    assert.ok(result.streamSeq > 0);
  });

  test('the shipper follows the log across rollovers until stopped, and resumes where it stopped', async (t) => {
    const dir = tempDir(t);
    const src = join(dir, 'events.bin');
    const records = payloads(2000, 'f');
    const logger = new BinaryLogger(src, { maxFileSize: 2048, compress: true });
    for (const r of records.slice(0, 500)) logger.write(r);
    const shipper = ship(src, { servers: server.url, stream: 'FOLLOW', subject: 'logs.f', pollInterval: 10, maxBatchBytes: 4096 });
    for (const r of records.slice(500, 1500)) logger.write(r);
    await logger.whenCompressed();
    // Wait until everything written so far is acknowledged.
    await waitUntil('1500 records in the stream', async () => (await streamRecords(server.url, 'FOLLOW')).payloads.length >= 1500);
    const first = await shipper.stop();
    assert.equal(first.records, 1500);
    for (const r of records.slice(1500)) logger.write(r);
    logger.close();
    const second = await ship(src, { servers: server.url, stream: 'FOLLOW', subject: 'logs.f', once: true }).done;
    assert.equal(second.records, 500);
    assert.deepEqual((await streamRecords(server.url, 'FOLLOW')).payloads, records);
  });

  test('two machines ship into one stream under their own subjects, and pull merges them keeping each one\'s order', async (t) => {
    const dir = tempDir(t);
    const a = join(dir, 'host-a', 'events.bin');
    const b = join(dir, 'host-b', 'events.bin');
    const ra = payloads(1500, 'host-a');
    const rb = payloads(900, 'host-b');
    writeLog(a, ra.slice(0, 700));
    writeLog(b, rb);
    await ship(a, { servers: server.url, stream: 'MANY', subject: 'logs.a', once: true, maxBatchBytes: 2048 }).done;
    await ship(b, { servers: server.url, stream: 'MANY', subject: 'logs.b', once: true, maxBatchBytes: 2048 }).done;
    writeLog(a, ra.slice(700));
    await ship(a, { servers: server.url, stream: 'MANY', subject: 'logs.a', once: true, maxBatchBytes: 2048 }).done;
    const central = join(dir, 'central', 'all.bin');
    await pull(central, { servers: server.url, stream: 'MANY', filter: 'logs.*', once: true }).done;
    const all = readAll(central).map(String);
    assert.equal(all.length, ra.length + rb.length);
    assert.deepEqual(all.filter((s) => s.startsWith('host-a ')), ra.map(String).filter((s) => s.startsWith('host-a ')));
    assert.deepEqual(all.filter((s) => s.startsWith('host-b ')), rb.map(String).filter((s) => s.startsWith('host-b ')));
    // Byte-exact per source: the stream per subject is each log, in order.
    assert.deepEqual((await streamRecords(server.url, 'MANY', 'logs.a')).payloads, ra);
    assert.deepEqual((await streamRecords(server.url, 'MANY', 'logs.b')).payloads, rb);
    // A filter pulls one machine only.
    const onlyB = join(dir, 'central', 'b.bin');
    await pull(onlyB, { servers: server.url, stream: 'MANY', filter: 'logs.b', once: true }).done;
    assert.deepEqual(readAll(onlyB), rb);
  });

  test('a stream that exists without the subject gets it added; a second log on a taken subject is refused', async (t) => {
    const dir = tempDir(t);
    const a = join(dir, 'a.bin');
    writeLog(a, payloads(10, 'a'));
    await ship(a, { servers: server.url, stream: 'ADD', subject: 'one.a', once: true }).done;
    await ship(a, { servers: server.url, stream: 'ADD', subject: 'two.a', once: true, logId: 'other' }).done;
    const { connect } = await import('nats');
    const nc = await connect({ servers: server.url });
    const info = await (await nc.jetstreamManager()).streams.info('ADD');
    await nc.close();
    assert.deepEqual(info.config.subjects, ['one.a', 'two.a']);
    const b = join(dir, 'b.bin');
    writeLog(b, payloads(10, 'b'));
    await assert.rejects(ship(b, { servers: server.url, stream: 'ADD', subject: 'one.a', logId: 'b', once: true }).done, {
      code: 'ERR_SHIP_SUBJECT_TAKEN',
      message: /Subject "one\.a" of stream "ADD" already carries log "one\.a"/,
    });
  });

  test('a record larger than max_payload stops the shipper with ERR_SHIP_RECORD_TOO_LARGE saying how to raise it', async (t) => {
    const dir = tempDir(t);
    const src = join(dir, 'events.bin');
    writeLog(src, [Buffer.from('small'), Buffer.alloc(1_100_000, 1), Buffer.from('after')], 1 << 24);
    await assert.rejects(ship(src, { servers: server.url, stream: 'BIG', subject: 'logs.big', once: true }).done, {
      code: 'ERR_SHIP_RECORD_TOO_LARGE',
      message: /Record at 0:9 of ".*events\.bin" takes 1100004 bytes; a message may carry at most 1047552 .*max_payload/,
    });
    // The record before it was shipped, and the checkpoint stops before the big one.
    assert.deepEqual((await streamRecords(server.url, 'BIG')).payloads.map(String), ['small']);
    const cli = await runBin(['ship', src, '--server', server.url, '--stream', 'BIG', '--subject', 'logs.big', '--once']);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /^binlog ship: ERR_SHIP_RECORD_TOO_LARGE: Record at 0:9 .*Raise max_payload/m);
  });

  test('a record over the batch size but under max_payload travels alone in a message its size, and the batches around it keep their size', async (t) => {
    const dir = tempDir(t);
    const src = join(dir, 'events.bin');
    // Batches of at most 4096 body bytes (39 records of 104 bytes framed): 39 + 11 records, the
    // 200,000-byte record alone, 39 + 11 again, and the 4092-byte one (4096 framed) alone.
    const small = (i: number): Buffer => Buffer.alloc(100, i);
    const records = [...Array.from({ length: 50 }, (_, i) => small(i)), Buffer.alloc(200_000, 7), ...Array.from({ length: 50 }, (_, i) => small(50 + i)), Buffer.alloc(4092, 9)];
    writeLog(src, records, 1 << 24);
    const r = await ship(src, { servers: server.url, stream: 'ALONE', subject: 'logs.alone', once: true, maxBatchBytes: 4096 }).done;
    assert.deepEqual([r.records, r.messages], [102, 6]);
    const inStream = await streamRecords(server.url, 'ALONE');
    assert.deepEqual([inStream.counts, inStream.payloads], [[39, 11, 1, 39, 11, 1], records]);
  });

  test('binlog ship and binlog pull from the command line: exit codes and a byte-exact central log', async (t) => {
    const dir = tempDir(t);
    const src = join(dir, 'events.bin');
    const records = payloads(400, 'cli');
    writeLog(src, records);
    const shipped = await runBin(['ship', src, '--stream', 'CLI', '--subject', 'logs.cli', '--once'], { NATS_URL: server.url });
    assert.equal(shipped.code, 0, shipped.stderr);
    assert.match(shipped.stderr, /binlog ship: 400 records in 1 message acknowledged; next run resumes at \d+:\d+/);
    const central = join(dir, 'all.bin');
    const pulled = await runBin(['pull', central, '--server', server.url, '--stream', 'CLI', '--subject', 'logs.>', '--once']);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.deepEqual(readAll(central), records);
    const usage = await runBin(['ship', src, '--subject', 'x']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--stream is required/);
  });

  test('binlog pull exits at once with ERR_LOGGER_PATH_IN_USE when the central log is open elsewhere (its connection closed, not left reconnecting)', async (t) => {
    const dir = tempDir(t);
    const central = join(dir, 'all.bin');
    using held = new BinaryLogger(central, { maxFileSize: 4096 });
    held.write('held');
    // Following (no --once): the client reconnects forever, so only closing it lets the process end.
    const r = await runBin(['pull', central, '--server', server.url, '--stream', 'HELD']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /binlog pull: ERR_LOGGER_PATH_IN_USE/);
    assert.deepEqual([...readLog(central)], ['held']);
  });

  test('binlog ship and binlog pull without --once follow until SIGTERM and exit 0 with their checkpoints written', async (t) => {
    const dir = tempDir(t);
    const src = join(dir, 'events.bin');
    writeLog(src, payloads(50, 'sig'));
    const child = track(spawn(process.execPath, [BIN, 'ship', src, '--server', server.url, '--stream', 'SIG', '--subject', 'logs.sig'], { stdio: ['ignore', 'ignore', 'pipe'] }));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    await waitUntil('binlog ship to ship 50 records', async () => (await streamRecords(server.url, 'SIG').catch(() => ({ payloads: [] }))).payloads.length >= 50, { state: () => stderr });
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /50 records in 1 message acknowledged/);
    // binlog pull too: SIGTERM stops it cleanly, its checkpoint written, though its logger listens for signals too.
    const central = join(dir, 'central.bin');
    const puller = track(spawn(process.execPath, [BIN, 'pull', central, '--server', server.url, '--stream', 'SIG'], { stdio: ['ignore', 'ignore', 'pipe'] }));
    let pullErr = '';
    puller.stderr.setEncoding('utf8').on('data', (d: string) => (pullErr += d));
    await waitUntil('binlog pull to append 50 records', () => existsSync(central) && readAll(central).length >= 50, { state: () => pullErr });
    puller.kill('SIGTERM');
    const pullCode = await new Promise<number | null>((r) => puller.on('exit', (c) => r(c)));
    assert.equal(pullCode, 0, pullErr);
    assert.equal(pullErr, 'binlog pull: 50 records appended; stream sequence 1 applied\n');
    assert.equal((await pull(central, { servers: server.url, stream: 'SIG', once: true }).done).records, 0);
    assert.deepEqual(readAll(central), payloads(50, 'sig'));
  });
});

describe('secure connections', { skip: SKIP_NO_SERVER }, () => {
  const server = serverForSuite({ config: 'authorization { user: shipper, password: "s3cret-pw" }\n' });

  test('the right user and password work, from flags and from NATS_USER/NATS_PASSWORD', async (t) => {
    const dir = tempDir(t);
    const src = join(dir, 'events.bin');
    writeLog(src, payloads(20, 'auth'));
    const r = await ship(src, { servers: server.url, user: 'shipper', password: 's3cret-pw', stream: 'AUTH', subject: 'logs.auth', once: true }).done;
    assert.equal(r.records, 20);
    const central = join(dir, 'all.bin');
    const cli = await runBin(['pull', central, '--server', server.url, '--stream', 'AUTH', '--once'], { NATS_USER: 'shipper', NATS_PASSWORD: 's3cret-pw' });
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(readAll(central).length, 20);
  });

  test('a wrong password fails at once, naming the server and never the secret', async (t) => {
    const dir = tempDir(t);
    const src = join(dir, 'events.bin');
    writeLog(src, payloads(5, 'auth'));
    const started = Date.now();
    const cli = await runBin(['ship', src, '--server', server.url, '--user', 'shipper', '--stream', 'AUTH', '--subject', 'logs.x', '--once'], { NATS_PASSWORD: 'wrong-pw-123' });
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.equal(cli.code, 1);
    assert.equal(cli.stderr, `binlog ship: ERR_NATS_AUTH: NATS server ${server.url} refused the credentials (check the user and password, token or credentials file)\n`);
    assert.doesNotMatch(cli.stderr, /wrong-pw-123/);
    await assert.rejects(ship(src, { servers: `nats://shipper:wrong-pw-123@127.0.0.1:${server.port}`, stream: 'AUTH', subject: 'logs.x', once: true }).done, (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_NATS_AUTH');
      assert.ok(err.message.includes(`nats://127.0.0.1:${server.port}`), err.message);
      assert.doesNotMatch(err.message, /wrong-pw-123/);
      return true;
    });
  });
});

test('an unreachable server fails at once with ERR_NATS_CONNECT naming it', { skip: SKIP_NO_SERVER }, async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'events.bin');
  writeLog(src, payloads(3, 'x'));
  const port = await freePort();
  await assert.rejects(ship(src, { servers: `nats://127.0.0.1:${port}`, stream: 'S', subject: 's', once: true }).done, {
    code: 'ERR_NATS_CONNECT',
    message: new RegExp(`^Cannot connect to NATS server nats://127\\.0\\.0\\.1:${port}: `),
  });
});

test("import 'binary-logger' loads no NATS code, and shipping without the client says what to install", (t) => {
  // A copy of dist/ with no node_modules beside it: a static import of nats anywhere would fail to load.
  const dir = tempDir(t);
  cpSync(join(REPO_ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  mkdirSync(join(dir, 'logs'));
  const script = `
    const core = await import('./dist/index.js');
    if (typeof core.BinaryLogger !== 'function') throw new Error('no BinaryLogger');
    const { ship } = await import('./dist/ship/index.js');
    try { await ship('logs/events.bin', { stream: 'S', subject: 's', once: true }).done; console.log('shipped?!'); }
    catch (err) { console.log(err.code + ' ' + err.message); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'ERR_NATS_CLIENT_MISSING Shipping and pulling need the NATS client: run `npm install nats@^2.29.3` beside binary-logger\n');
  assert.ok(existsSync(join(REPO_ROOT, 'node_modules', 'nats')));
  assert.doesNotMatch(readFileSync(join(REPO_ROOT, 'dist', 'index.js'), 'utf8'), /nats/);
});
