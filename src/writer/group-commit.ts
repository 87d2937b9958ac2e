/**
 * Group commit for threads (issue 13): how a commit goes through the
 * commit ring (ring.ts) in 'sync' and 'fsync' once the log is shared.
 *
 * A thread that finds the lock free takes it and writes its own records
 * followed by every record waiting in the ring, in one write(2) (one
 * fdatasync(2) in 'fsync'), split at the rollover points like any commit.
 * A thread that finds it taken puts its records in a slot and waits
 * (slot-wait.ts) until a holder has written them, or until it can take the
 * lock and write them itself with whatever else waits. Either way it
 * returns only once its own records are handed to the OS, and a failure
 * reaches exactly the writers whose records are not in the file.
 */
import { threadToken, type SharedState } from '../shared.js';
import { Batch, type ChunkObserver } from './batch.js';
import type { CommitRing } from './ring.js';
import { SLOT_DATA_BYTES } from './ring.js';
import { awaitSlot, COMBINER_GRACE, type SlotWaiter } from './slot-wait.js';

/** What group commit needs from the commit path that holds the lock. */
export interface LockedLog {
  readonly path: string;
  readonly state: SharedState;
  /** Bytes of the current commit's buffer in the file (CommitPath.committed). */
  committed: number;
  /**
   * Just after taking the lock (over from a dead holder if `orphaned`):
   * bring this thread up to date with the log. On a throw the lock is released.
   */
  enter(orphaned: boolean): void;
  /** Take the lock, waiting for it (then enter()). */
  lock(): void;
  /** Release the lock and wake a writer waiting in the ring. */
  unlock(): void;
  /**
   * Under the lock: append `buf[from, end)`, split at the rollover points,
   * telling `chunks` of each chunk. On a throw, `committed` says how far it got.
   */
  append(buf: Uint8Array, from: number, end: number, chunks?: ChunkObserver): void;
}

/**
 * Looks (one atomic load each, a few ns) a holder spends waiting for
 * threads that are about to queue a record (ring.gather): about the time a
 * thread takes from entering commit() to publishing its slot, well under
 * the write(2) it saves.
 */
const GATHER_LIMIT = 500;

/** Nothing of the holder's own: a waiter serving the ring. */
const NOTHING = new Uint8Array(0);

export class GroupCommit implements SlotWaiter {
  readonly #ring: CommitRing;
  readonly #log: LockedLog;
  /** True when another thread wrote this thread's last queued record: it is the combiner. */
  #served = false;
  /** Where this thread combines what it writes as the holder; made on first use. */
  #batch: Batch | undefined;

  /** The log's path (SlotWaiter: for ERR_LOGGER_CLOSED). */
  get path(): string {
    return this.#log.path;
  }

  constructor(ring: CommitRing, log: LockedLog) {
    this.#ring = ring;
    this.#log = log;
  }

  /** True if a commit of `bytes` bytes goes through the ring. */
  takes(bytes: number): boolean {
    return this.#log.state.shared && bytes <= SLOT_DATA_BYTES;
  }

  /**
   * Commit `buf[0, end)` (at most SLOT_DATA_BYTES): take the lock if it is
   * free and write these records with every record waiting in the ring;
   * else put them in a slot and wait until a holder wrote them (or this
   * thread became the holder). Returns once they are in the file.
   */
  commit(buf: Uint8Array, end: number): void {
    const ring = this.#ring;
    ring.arrive();
    let arriving = true;
    try {
      const log = this.#log;
      const st = log.state;
      for (let pos = 0; pos < end; ) {
        // The lock free: take it and write, with whatever waits in the ring.
        // Taken: queue at once rather than spin for it (issue 13): the
        // holder is in a write(2) and takes queued records into its next
        // one, so N waiting threads pay one write(2) instead of N.
        // A thread that another one served last time queues even if the lock
        // is free: that combiner is coming back (see COMBINER_GRACE).
        if (!this.#served && st.tryAcquire()) {
          ring.arrived();
          arriving = false;
          log.enter(false);
          try {
            this.#combine(buf, pos, end);
          } finally {
            log.unlock();
          }
          return;
        }
        const slot = ring.claim(threadToken());
        if (slot < 0) {
          // Every slot in use: wait for the lock itself.
          ring.arrived();
          arriving = false;
          log.lock();
          try {
            log.append(buf, pos, end);
            this.drain();
          } finally {
            log.unlock();
          }
          return;
        }
        ring.publish(slot, buf, pos, end);
        if (arriving) ring.arrived();
        arriving = false;
        const grace = this.#served ? COMBINER_GRACE : 0;
        this.#served = true; // unless serve() below says it wrote the slot itself
        awaitSlot(st, ring, slot, this, grace);
        log.committed = pos + ring.committed;
        if (ring.error) throw ring.error;
        // RETRY: a holder died with these records in its batch; the rest goes again.
        pos += ring.committed;
      }
      log.committed = end;
    } finally {
      if (arriving) ring.arrived();
    }
  }

  /**
   * Under the lock: write `buf[from, end)`, with the records of every READY
   * slot after it in the same write(2). A failure reaches each writer whose
   * records are not in the file; it is thrown here for our own.
   */
  #combine(buf: Uint8Array, from: number, end: number): void {
    const log = this.#log;
    const ring = this.#ring;
    ring.gather(GATHER_LIMIT, 1);
    if (ring.pending === 0) {
      log.append(buf, from, end);
      ring.batchWritten(1);
      return;
    }
    const batch = (this.#batch ??= new Batch());
    batch.fill(ring, buf, from, end);
    try {
      log.append(batch.buf, 0, batch.end, batch);
    } catch (err) {
      log.committed = from + batch.failed(log.committed, err);
      throw err;
    }
    ring.batchWritten(1 + batch.slots.length);
    log.committed = end;
  }

  /**
   * Under the lock, after a commit that did not go through the ring (a
   * record too large for a slot): write the records waiting in the ring,
   * in one write(2), before the lock goes. Failures reach their writers.
   */
  drain(gather = false): void {
    const ring = this.#ring;
    if (gather) ring.gather(GATHER_LIMIT, 0);
    if (ring.pending === 0) return;
    const batch = (this.#batch ??= new Batch());
    batch.fill(ring, NOTHING, 0, 0);
    if (batch.end === 0) return;
    try {
      this.#log.append(batch.buf, 0, batch.end, batch);
    } catch (err) {
      batch.failed(this.#log.committed, err);
    }
    ring.batchWritten(batch.slots.length);
  }

  /**
   * A waiting writer whose slot is still READY found the lock free (or took
   * it over from a dead holder): as the holder, write every READY slot, its
   * own among them. Its own outcome is in its slot, failure included; the
   * errors of taking the lock (the log closed, recovery failing) are its own.
   */
  serve(slot: number, orphaned: boolean): void {
    const log = this.#log;
    this.#served = false;
    try {
      log.enter(orphaned);
    } catch (err) {
      if (this.#ring.withdraw(slot)) throw err;
      return; // another holder took the slot meanwhile: its outcome will come
    }
    try {
      this.drain(true);
    } finally {
      log.unlock();
    }
  }
}
