/**
 * Shared-memory state of one log, and the lock that serializes writes and
 * rollover across worker threads (the original's RLock).
 *
 * Worker threads share no objects, only SharedArrayBuffers (and the
 * process's descriptors, but Node closes every descriptor a worker opened
 * when that worker exits, so a descriptor must never outlive or leave the
 * thread that opened it). Every BinaryLogger, shared or not, keeps the
 * state of its log here: the current file's size, the next backup number,
 * a generation that every rollover bumps, and the lock. Each thread appends
 * through its own O_APPEND descriptor of the current file and reopens it
 * (under the lock) when the generation moved on, so all threads write into
 * one file, under one lock, and see one rollover.
 *
 * The lock word holds the holder's OS thread id (from /proc/thread-self), so
 * a waiter that times out can ask the kernel whether the holder still exists
 * (/proc/self/task/<tid>). A worker terminated inside a write leaves the lock
 * held by a thread that no longer exists; the next waiter takes the lock
 * over and recovers what the dead holder left (see src/writer/recover.ts).
 * Without /proc (not Linux), holders are identified but cannot be checked:
 * a worker terminated while holding the lock blocks the other writers.
 */
import { existsSync, readlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { threadId } from 'node:worker_threads';
import { RING_BYTES } from './writer/ring.js';

/**
 * Int32 slots. The lock's words, which every waiter hammers, sit in the
 * first cache line; the words every commit only reads (closed, generation)
 * sit LINE_INTS further on, so taking and releasing the lock does not evict
 * them from the other cores' caches (false sharing). 128 bytes apart: the
 * buffer's start need not be 64-byte aligned, and the adjacent-line
 * prefetcher pulls lines in pairs.
 */
export const LOCK = 0; // 0 when free, else the holder's thread token
export const WAITERS = 1; // threads sleeping in acquire()
export const SPINNERS = 2; // threads spinning on the lock or a ring slot right now (at most MAX_SPINNERS)
const NAP = 3; // never written: a timed Atomics.wait on it is a nap that no release has to notify
/** Int32s per padding stride (128 bytes). */
export const LINE_INTS = 32;
export const PHASE = LINE_INTS; // PHASE_* below
export const CLOSED = LINE_INTS + 1; // 1 once the owner closed the log
export const GENERATION = LINE_INTS + 2; // bumped whenever the current file is a new file
export const ROLL_FAILING = LINE_INTS + 3; // 1 while rollover keeps failing (reported once)
const INT32_SLOTS = 2 * LINE_INTS;

/**
 * Float64 slots, after the Int32 ones, by accessor name. Only read or
 * written under the lock. Each becomes a number property of SharedState,
 * defined once below from this table, so no caller indexes the array.
 */
const FLOAT64 = {
  /** Bytes in the current file, whole records only. */
  size: 0,
  /** The seq the next rollover takes. */
  seq: 1,
  /** Date.now() after which a failed rollover is retried. */
  rollRetryAt: 2,
  /** Date.now() after which the current file is checked against the path. */
  checkAt: 3,
} as const;
const FLOAT64_SLOTS = 4;

/** Bytes of the state without a commit ring (the buffered modes). */
const STATE_BYTES = INT32_SLOTS * 4 + FLOAT64_SLOTS * 8;

/** No rollover in progress. */
export const PHASE_IDLE = 0;
/** A rollover is preparing the next current file, or sealing the old one. */
export const PHASE_ROLLING = 1;

/**
 * Spin iterations (one load each) before sleeping on a held lock, or
 * queueing a record in the commit ring: a few microseconds, about the time
 * of a write(2) or two, far less than a sleep and a wake-up cost.
 */
export const SPIN_LIMIT = 1000;

/**
 * How many threads may spin at once: one fewer than the cores, so that
 * spinners never take the core the holder needs. A thread that finds the
 * quota taken sleeps at once (issue 13: with more threads than cores, the
 * waiters spun on the CPU the holder needed, and throughput fell back).
 */
export const MAX_SPINNERS = Math.max(0, availableParallelism() - 1);

/**
 * acquire(true) ('sync' threads, issue 13): looks at a held lock, within
 * the spinner quota, before a nap (a few microseconds).
 */
const NAP_WATCH_LOOKS = 2000;
/**
 * acquire(true): looks for which the lock must stay free before a watcher
 * takes it (~0.3-0.5 us): the thread that just released it is back for its
 * next record sooner, and keeps the lock (see acquire).
 */
const NAP_FREE_LOOKS = 300;
/** acquire(true): a nap, ms (the kernel makes it ~60-100 us here: timer slack and wake-up). */
const NAP_MS = 0.05;

/** How long a waiter sleeps before checking that the holder still lives. */
export const HOLDER_CHECK_MS = 20;

let token = 0;
let canCheckLiveness = false;

/** This thread's lock token: its OS thread id where /proc tells it. */
export function threadToken(): number {
  if (token !== 0) return token;
  try {
    // "<pid>/task/<tid>"
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(tid) && tid > 0 && tid < 0x7fff_ffff) {
      token = tid;
      canCheckLiveness = true;
      return token;
    }
  } catch {
    // no /proc: fall through
  }
  // Unique within the process, negative so it never looks like a tid.
  token = -(threadId + 1);
  return token;
}

/** False only when /proc says the thread with this token is gone. */
export function holderAlive(holder: number): boolean {
  if (!canCheckLiveness || holder < 0) return true;
  return existsSync(`/proc/self/task/${holder}`);
}

/** The Float64 slots as number properties (see FLOAT64). */
export interface SharedState extends Record<keyof typeof FLOAT64, number> {}

export class SharedState {
  readonly buffer: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly f64: Float64Array;

  /**
   * False until share() hands the buffer to another thread: until then no
   * other thread can hold the lock, and acquire()/release() skip the atomics
   * (about 0.3 us a record in 'sync' durability).
   */
  shared: boolean;

  /**
   * The state in `buffer` (another thread's, from a share() handle), or a
   * new one; `withRing` makes room for a commit ring (writer/ring.ts) after
   * it, for the modes that commit record by record.
   */
  constructor(buffer?: SharedArrayBuffer, withRing = false) {
    this.shared = buffer !== undefined;
    this.buffer = buffer ?? new SharedArrayBuffer(STATE_BYTES + (withRing ? RING_BYTES : 0));
    this.i32 = new Int32Array(this.buffer, 0, INT32_SLOTS);
    this.f64 = new Float64Array(this.buffer, INT32_SLOTS * 4, FLOAT64_SLOTS);
  }

  /** Byte offset of the commit ring in `buffer`, or -1 if it has none. */
  get ringOffset(): number {
    return this.buffer.byteLength === STATE_BYTES + RING_BYTES ? STATE_BYTES : -1;
  }

  /** True while a rollover is preparing the next current file or sealing the old one. */
  get rolling(): boolean {
    return this.i32[PHASE] === PHASE_ROLLING;
  }
  set rolling(value: boolean) {
    this.i32[PHASE] = value ? PHASE_ROLLING : PHASE_IDLE;
  }

  /** True while rollover keeps failing (reported once). */
  get rollFailing(): boolean {
    return this.i32[ROLL_FAILING] === 1;
  }
  set rollFailing(value: boolean) {
    this.i32[ROLL_FAILING] = value ? 1 : 0;
  }

  /** Bumped whenever the current file is a new file; other threads then reopen it. */
  get generation(): number {
    return this.i32[GENERATION] as number;
  }

  /** Move the generation on (under the lock); returns the new one. */
  nextGeneration(): number {
    const gen = ((this.i32[GENERATION] as number) + 1) | 0;
    this.i32[GENERATION] = gen;
    return gen;
  }

  /** True once the owner closed the log (read atomically: any thread may set it). */
  get closed(): boolean {
    return Atomics.load(this.i32, CLOSED) === 1;
  }

  /** Close the log for every thread. */
  markClosed(): void {
    Atomics.store(this.i32, CLOSED, 1);
  }

  static isStateBuffer(value: unknown): value is SharedArrayBuffer {
    return value instanceof SharedArrayBuffer && (value.byteLength === STATE_BYTES || value.byteLength === STATE_BYTES + RING_BYTES);
  }

  /** Take the lock if it is free, without waiting. */
  tryAcquire(): boolean {
    return !this.shared || Atomics.compareExchange(this.i32, LOCK, 0, threadToken()) === 0;
  }

  /**
   * Take the lock. Returns true when it was taken over from a holder that
   * no longer exists: the caller must then repair the log's state before
   * using it.
   *
   * `nap` ('sync' threads, issue 13): wait without ever being woken, and
   * let a thread that keeps writing keep the lock for a while. A write(2)
   * of one record costs ~0.7 us when consecutive appends to the file come
   * from one core and ~2 us when they alternate between cores (the inode's
   * lock and lines move each time), and a futex wake-up costs the releaser
   * a syscall and the sleeper ~60 us here. So a waiter watches the lock
   * (within the spinner quota) and takes it only once it stayed free for
   * NAP_FREE_LOOKS, longer than its last holder needs to come back with its
   * next record; else it naps (a timed Atomics.wait nobody notifies) and
   * tries once on waking. The lock passes between threads every few naps
   * instead of at every record (T1 'sync', docs/ARCHITECTURE.md: 2 threads
   * 1.13-1.16 M records/s against 0.74 M); what it costs is the latency of
   * the writes that wait: 2 threads hardly (p99 ~10 us), 4 and 8 threads
   * p99 0.2-0.8 ms against ~15 us.
   */
  acquire(nap = false): boolean {
    if (!this.shared) return false;
    const me = threadToken();
    const i32 = this.i32;
    if (Atomics.compareExchange(i32, LOCK, 0, me) === 0) return false;
    if (nap) return this.#acquireNapping(me);
    if (this.spinAcquire()) return false;
    return this.#acquireSlow(me);
  }

  #acquireNapping(me: number): boolean {
    const i32 = this.i32;
    let checkAt = Date.now() + HOLDER_CHECK_MS;
    for (;;) {
      if (this.startSpinning()) {
        try {
          for (let n = 0, free = 0; n < NAP_WATCH_LOOKS; n++) {
            if (Atomics.load(i32, LOCK) !== 0) free = 0;
            else if (++free >= NAP_FREE_LOOKS && Atomics.compareExchange(i32, LOCK, 0, me) === 0) return false;
          }
        } finally {
          this.stopSpinning();
        }
      }
      Atomics.wait(i32, NAP, 0, NAP_MS);
      const holder = Atomics.compareExchange(i32, LOCK, 0, me);
      if (holder === 0) return false;
      // Our own token on a lock we do not hold: a dead thread's id that the kernel gave to us.
      if (holder === me) return true;
      if (Date.now() >= checkAt) {
        if (this.takeOverIfDead(holder)) return true;
        checkAt = Date.now() + HOLDER_CHECK_MS;
      }
    }
  }

  /**
   * The holder is usually inside one write(2): spin a little for the lock
   * before paying for a sleep and a wake-up, if a core is left for
   * spinning. True if the lock is now ours.
   */
  spinAcquire(): boolean {
    if (!this.startSpinning()) return false;
    const me = threadToken();
    const i32 = this.i32;
    try {
      for (let spin = 0; spin < SPIN_LIMIT; spin++) {
        if (Atomics.load(i32, LOCK) === 0 && Atomics.compareExchange(i32, LOCK, 0, me) === 0) return true;
      }
      return false;
    } finally {
      this.stopSpinning();
    }
  }

  /** Count this thread as spinning, if the quota (MAX_SPINNERS) allows; then call stopSpinning(). */
  startSpinning(): boolean {
    if (Atomics.add(this.i32, SPINNERS, 1) < MAX_SPINNERS) return true;
    Atomics.sub(this.i32, SPINNERS, 1);
    return false;
  }

  stopSpinning(): void {
    Atomics.sub(this.i32, SPINNERS, 1);
  }

  #acquireSlow(me: number): boolean {
    const i32 = this.i32;
    // Count ourselves before looking at the lock again, so that a release
    // between our look and our sleep sees us and wakes us.
    Atomics.add(i32, WAITERS, 1);
    try {
      for (;;) {
        const holder = Atomics.compareExchange(i32, LOCK, 0, me);
        if (holder === 0) return false;
        // Our own token on a lock we do not hold: a dead thread's id that
        // the kernel gave to us. The lock is orphaned.
        if (holder === me) return true;
        const woke = Atomics.wait(i32, LOCK, holder, HOLDER_CHECK_MS);
        if (woke === 'timed-out' && this.takeOverIfDead(holder)) return true;
      }
    } finally {
      Atomics.sub(i32, WAITERS, 1);
    }
  }

  /**
   * Take the lock from `holder` if that thread no longer exists (or the
   * lock holds our own token: a dead thread's id the kernel gave to us).
   * Returns true if this thread now holds the orphaned lock.
   */
  takeOverIfDead(holder = Atomics.load(this.i32, LOCK)): boolean {
    if (holder === 0) return false;
    const me = threadToken();
    if (holder !== me && holderAlive(holder)) return false;
    return Atomics.compareExchange(this.i32, LOCK, holder, me) === holder;
  }

  /**
   * Free the lock, waking one sleeping waiter. A commit ring wakes its own
   * waiters after this (writer/ring.ts).
   */
  release(): void {
    if (!this.shared) return;
    Atomics.store(this.i32, LOCK, 0);
    if (Atomics.load(this.i32, WAITERS) > 0) Atomics.notify(this.i32, LOCK, 1);
  }
}

for (const [name, index] of Object.entries(FLOAT64)) {
  Object.defineProperty(SharedState.prototype, name, {
    get(this: SharedState): number {
      return this.f64[index] as number;
    },
    set(this: SharedState, value: number) {
      this.f64[index] = value;
    },
  });
}

/** Marks a value made by share(). */
export const HANDLE_TAG = 'binary-logger/handle@1';

/**
 * What share() returns: plain data that structured clone carries to a
 * worker (workerData or postMessage), naming the log and its shared state.
 */
export interface LoggerHandle {
  readonly tag: typeof HANDLE_TAG;
  readonly state: SharedArrayBuffer;
  /** BroadcastChannel name: attached loggers tell the owner of rollovers. */
  readonly channel: string;
  readonly path: string;
  readonly options: Readonly<Record<string, unknown>>;
}

export function isHandle(value: unknown): value is LoggerHandle {
  if (typeof value !== 'object' || value === null) return false;
  const h = value as Partial<LoggerHandle>;
  return (
    h.tag === HANDLE_TAG &&
    SharedState.isStateBuffer(h.state) &&
    typeof h.channel === 'string' &&
    typeof h.path === 'string' &&
    typeof h.options === 'object'
  );
}
