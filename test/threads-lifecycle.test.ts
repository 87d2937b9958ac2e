/**
 * Issue 3: share()/attach() lifecycle, and async writers in one thread.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { BinaryLogger, readLog, type Durability } from '../src/index.js';
import { tempDir } from './helpers.js';

const COMMANDS = new URL('./fixtures/thread-commands.js', import.meta.url);

/** A worker attached to `logger`'s log that runs one command at a time. */
function attachWorker(
  t: { after(fn: () => unknown): void },
  logger: BinaryLogger,
): { run(command: object): Promise<{ ok?: unknown; error?: string }>; worker: Worker } {
  const worker = new Worker(COMMANDS, { workerData: { handle: logger.share() } });
  // Never let a failed assertion leave a worker keeping the test file alive.
  t.after(() => worker.terminate());
  return {
    worker,
    async run(command) {
      worker.postMessage(command);
      const [reply] = await once(worker, 'message');
      return reply;
    },
  };
}

test('close() of an attached logger detaches that thread only', async (t) => {
  const path = join(tempDir(t), 'events.bin');
  const logger = new BinaryLogger(path, 1000);
  const a = attachWorker(t, logger);
  const b = attachWorker(t, logger);
  assert.deepEqual(await a.run({ op: 'write', payload: 'a1' }), { ok: true });
  assert.deepEqual(await a.run({ op: 'close' }), { ok: true });
  assert.deepEqual(await a.run({ op: 'closed' }), { ok: true });
  assert.deepEqual(await a.run({ op: 'write', payload: 'a2' }), { error: 'ERR_LOGGER_CLOSED' });
  assert.deepEqual(await a.run({ op: 'close' }), { ok: true }, 'a second close is a no-op');
  logger.write('main1');
  assert.deepEqual(await b.run({ op: 'write', payload: 'b1' }), { ok: true });
  assert.equal(logger.closed, false);
  logger.close();
  await Promise.all([a.worker.terminate(), b.worker.terminate()]);
  assert.deepEqual([...readLog(path)], ['a1', 'main1', 'b1']);
});

test('closing the owner closes the log for every thread', async (t) => {
  const path = join(tempDir(t), 'events.bin');
  const logger = new BinaryLogger(path, 50);
  const a = attachWorker(t, logger);
  assert.deepEqual(await a.run({ op: 'write', payload: 'before' }), { ok: true });
  logger.close();
  assert.deepEqual(await a.run({ op: 'closed' }), { ok: true });
  assert.deepEqual(await a.run({ op: 'write', payload: 'after' }), { error: 'ERR_LOGGER_CLOSED' });
  assert.deepEqual(await a.run({ op: 'flush' }), { error: 'ERR_LOGGER_CLOSED' });
  assert.throws(() => logger.write('x'), { code: 'ERR_LOGGER_CLOSED' });
  assert.throws(() => logger.share(), { code: 'ERR_LOGGER_CLOSED' });
  await a.worker.terminate();
  assert.deepEqual([...readLog(path)], ['before']);
});

test('a buffered write in a worker after the owner closed the log throws at once', async (t) => {
  const path = join(tempDir(t), 'events.bin');
  const logger = new BinaryLogger(path, { maxFileSize: 1000, durability: 'buffered', flushInterval: 0 });
  const a = attachWorker(t, logger);
  assert.deepEqual(await a.run({ op: 'write', payload: 'kept' }), { ok: true });
  assert.deepEqual(await a.run({ op: 'flush' }), { ok: true });
  logger.close();
  assert.deepEqual(await a.run({ op: 'write', payload: 'refused' }), { error: 'ERR_LOGGER_CLOSED' });
  assert.deepEqual(await a.run({ op: 'closed' }), { ok: true });
  await a.worker.terminate();
  assert.deepEqual([...readLog(path)], ['kept']);
});

test('a worker that exits without closing leaves its buffered records flushed', async (t) => {
  const path = join(tempDir(t), 'events.bin');
  const logger = new BinaryLogger(path, { maxFileSize: 1 << 20, durability: 'buffered', flushInterval: 0 });
  const a = attachWorker(t, logger);
  for (let i = 0; i < 5; i++) assert.deepEqual(await a.run({ op: 'write', payload: `w${i}` }), { ok: true });
  assert.deepEqual([...readLog(path)], [], 'still in the worker\'s buffer');
  a.worker.postMessage({ op: 'exit' });
  assert.equal((await once(a.worker, 'exit'))[0], 0);
  assert.deepEqual([...readLog(path)], ['w0', 'w1', 'w2', 'w3', 'w4']);
  logger.close();
});

test('attach() refuses what share() did not make', () => {
  for (const bad of [undefined, null, {}, { tag: 'x' }, 'handle', { tag: 'binary-logger/handle@1', state: new ArrayBuffer(8), path: '/x', options: {} }]) {
    assert.throws(() => BinaryLogger.attach(bad as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  }
});

test('a second logger on the same path in the same thread is refused', (t) => {
  const path = join(tempDir(t), 'events.bin');
  using first = new BinaryLogger(path, 100);
  assert.throws(() => new BinaryLogger(path, 100), { code: 'ERR_LOGGER_PATH_IN_USE' });
  assert.throws(() => new BinaryLogger(join(path, '..', '.', 'events.bin'), 100), { code: 'ERR_LOGGER_PATH_IN_USE' });
  first.close();
  using second = new BinaryLogger(path, 100);
  assert.equal(second.closed, false);
});

for (const durability of ['sync', 'buffered'] as Durability[]) {
  test(`many async functions writing through one logger keep whole records, each in its own order (${durability})`, async (t) => {
    const path = join(tempDir(t), 'events.bin');
    const logger = new BinaryLogger(path, { maxFileSize: 700, durability });
    const tasks = 50;
    const perTask = 40;
    await Promise.all(
      Array.from({ length: tasks }, async (_, id) => {
        for (let n = 0; n < perTask; n++) {
          logger.write(`${id}:${n}:${'z'.repeat((id * 7 + n) % 30)}`);
          // Interleave differently per task: some yield to the event loop,
          // some only to the microtask queue.
          if ((id + n) % 3 === 0) await tick();
          else await Promise.resolve();
        }
      }),
    );
    logger.close();
    const next = new Array<number>(tasks).fill(0);
    let count = 0;
    let interleaved = false;
    let previous = -1;
    for (const record of readLog(path)) {
      const [id, n, pad] = record.split(':') as [string, string, string];
      assert.equal(Number(n), next[Number(id)], `task ${id} in order`);
      assert.equal(pad, 'z'.repeat((Number(id) * 7 + Number(n)) % 30));
      next[Number(id)]!++;
      if (previous !== -1 && previous !== Number(id)) interleaved = true;
      previous = Number(id);
      count++;
    }
    assert.equal(count, tasks * perTask);
    assert.ok(interleaved, 'the tasks really interleaved');
  });
}
