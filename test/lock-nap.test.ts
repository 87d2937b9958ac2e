/**
 * Issue 13: threads of a 'sync' log wait for the lock napping (a timed
 * Atomics.wait that no release notifies), so that a thread that keeps
 * writing keeps the lock and the write(2)s stay on one core; the other
 * modes sleep as counted waiters that a release wakes. Both take the lock
 * over from a holder that no longer exists.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { BinaryLogger, readLog } from '../src/index.js';
import { LOCK, SharedState, threadToken, WAITERS } from '../src/shared.js';
import { tempDir } from './helpers.js';

const LOCKER = new URL('./fixtures/state-locker.js', import.meta.url);

interface Locker {
  worker: Worker;
  /** The messages the worker posted, in order. */
  next(): Promise<Record<string, unknown>>;
  exited: Promise<number>;
}

function locker(state: SharedArrayBuffer, how: 'take-and-exit' | 'nap' | 'plain'): Locker {
  const worker = new Worker(LOCKER, { workerData: { state, how } });
  const queue: Array<Record<string, unknown>> = [];
  const waiting: Array<(m: Record<string, unknown>) => void> = [];
  worker.on('message', (m: Record<string, unknown>) => {
    const take = waiting.shift();
    if (take) take(m);
    else queue.push(m);
  });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  return {
    worker,
    next: () => new Promise((resolve) => (queue.length > 0 ? resolve(queue.shift()!) : waiting.push(resolve))),
    exited,
  };
}

/** A shared state whose lock this thread holds. */
function heldState(): SharedState {
  const st = new SharedState();
  st.shared = true;
  assert.equal(st.tryAcquire(), true);
  return st;
}

describe("the lock of a 'sync' log", () => {
  test('a napping waiter never counts as a waiter, so the release wakes nobody, and it takes the lock once free', async (t) => {
    const st = heldState();
    const w = locker(st.buffer, 'nap');
    t.after(() => w.worker.terminate());
    const { token } = (await w.next()) as { token: number };
    // It naps and looks again, over and over, while we hold the lock:
    // never as a counted waiter, never with the lock.
    for (let turn = 0; turn < 500; turn++) {
      assert.equal(Atomics.load(st.i32, WAITERS), 0, `turn ${turn}`);
      assert.equal(Atomics.load(st.i32, LOCK), threadToken());
      await tick();
    }
    st.release();
    assert.deepEqual(await w.next(), { orphaned: false, holder: token });
    await w.exited;
    assert.equal(Atomics.load(st.i32, LOCK), 0);
  });

  test('without napping (the other modes) the waiter sleeps as a counted waiter and the release wakes it', async (t) => {
    const st = heldState();
    const w = locker(st.buffer, 'plain');
    t.after(() => w.worker.terminate());
    const { token } = (await w.next()) as { token: number };
    while (Atomics.load(st.i32, WAITERS) !== 1) await tick();
    st.release();
    assert.deepEqual(await w.next(), { orphaned: false, holder: token });
    await w.exited;
    assert.equal(Atomics.load(st.i32, WAITERS), 0);
  });

  test('a napping waiter takes the lock over from a holder that no longer exists', async (t) => {
    const st = new SharedState();
    st.shared = true;
    const dead = locker(st.buffer, 'take-and-exit');
    const { token: deadToken } = (await dead.next()) as { token: number };
    await dead.exited;
    assert.equal(Atomics.load(st.i32, LOCK), deadToken, 'the lock is left with the dead thread');
    const w = locker(st.buffer, 'nap');
    t.after(() => w.worker.terminate());
    const { token } = (await w.next()) as { token: number };
    assert.deepEqual(await w.next(), { orphaned: true, holder: token });
    await w.exited;
  });

  test("two threads writing one 'sync' log keep their records whole and in order", async (t) => {
    const path = join(tempDir(t), 'events.bin');
    const logger = new BinaryLogger(path, { maxFileSize: 1 << 20 });
    const handle = logger.share();
    const count = 3000;
    const source = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.index).then(({ BinaryLogger }) => {
        const logger = BinaryLogger.attach(workerData.handle);
        for (let n = 0; n < workerData.count; n++) logger.write('w' + workerData.w + ':' + n);
        logger.close();
        parentPort.postMessage('done');
      });`;
    const index = new URL('../src/index.js', import.meta.url).href;
    const workers = [0, 1].map((w) => new Worker(source, { eval: true, workerData: { handle, count, w, index } }));
    for (const w of workers) t.after(() => w.terminate());
    await Promise.all(workers.map((w) => new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject)))));
    logger.close();
    const records = [...readLog(path)] as string[];
    assert.equal(records.length, 2 * count);
    for (const w of [0, 1]) {
      assert.deepEqual(
        records.filter((r) => r.startsWith(`w${w}:`)),
        Array.from({ length: count }, (_, n) => `w${w}:${n}`),
      );
    }
  });
});
