/**
 * Group commit for threads (issue 13): how a commit goes through the
 * commit ring (ring.ts) in 'fsync' once the log is shared ('sync' takes
 * the plain lock: combining measured slower there, thread-path.ts).
 *
 * A thread that finds the lock free (or gets it within a short spin, see
 * commit()) takes it and writes its own records
 * followed by every record waiting in the ring, in one write(2) (one
 * fdatasync(2) in 'fsync'), split at the rollover points like any commit.
 * A thread that finds it held longer puts its records in a slot and waits
 * (slot-wait.ts) until a holder has written them, or until it can take the
 * lock and write them itself with whatever else waits. Either way it
 * returns only once its own records are handed to the OS, and a failure
 * reaches exactly the writers whose records are not in the file.
 */
import { threadToken, type SharedState } from '../shared.js';
import { Batch, type ChunkObserver } from './batch.js';
import type { CommitRing } from './ring.js';
import { SLOT_DATA_BYTES } from './ring.js';
import { awaitSlot, type SlotWaiter } from './slot-wait.js';

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

/** Nothing of the holder's own: a waiter serving the ring. */
const NOTHING = new Uint8Array(0);

export class GroupCommit implements SlotWaiter {
  readonly #ring: CommitRing;
  readonly #log: LockedLog;
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
    const log = this.#log;
    const st = log.state;
    for (let pos = 0; pos < end; ) {
      // A holder inside one write(2) is out in a moment: spin for the lock
      // first (within the spinner quota), as a lone writer would. A holder
      // that stays (an fdatasync(2), a thread descheduled on a busy machine)
      // gets our records queued. Queueing at once measured worse in 'sync'
      // on 2 cores (issue 13, docs/ARCHITECTURE.md): the hand-off costs more
      // than the write(2) it saves.
      if (st.tryAcquire() || st.spinAcquire()) {
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
      awaitSlot(st, ring, slot, this);
      log.committed = pos + ring.committed;
      if (ring.error) throw ring.error;
      // RETRY: a holder died with these records in its batch; the rest goes again.
      pos += ring.committed;
    }
    log.committed = end;
  }

  /**
   * Under the lock: write `buf[from, end)`, with the records of every READY
   * slot after it in the same write(2). A failure reaches each writer whose
   * records are not in the file; it is thrown here for our own.
   */
  #combine(buf: Uint8Array, from: number, end: number): void {
    const log = this.#log;
    const ring = this.#ring;
    if (ring.pending === 0) return log.append(buf, from, end);
    const batch = (this.#batch ??= new Batch());
    batch.fill(ring, buf, from, end);
    try {
      log.append(batch.buf, 0, batch.end, batch);
    } catch (err) {
      log.committed = from + batch.failed(log.committed, err);
      // Our own records lead the batch: if they are all in (a later chunk
      // failed, after a rollover), the failure is only the queued writers'.
      if (log.committed < end) throw err;
    }
    log.committed = end;
  }

  /**
   * Under the lock, after a commit that did not go through the ring (a
   * record too large for a slot): write the records waiting in the ring,
   * in one write(2), before the lock goes. Failures reach their writers.
   */
  drain(): void {
    const ring = this.#ring;
    if (ring.pending === 0) return;
    const batch = (this.#batch ??= new Batch());
    batch.fill(ring, NOTHING, 0, 0);
    if (batch.end === 0) return;
    try {
      this.#log.append(batch.buf, 0, batch.end, batch);
    } catch (err) {
      batch.failed(this.#log.committed, err);
    }
  }

  /**
   * A waiting writer whose slot is still READY found the lock free (or took
   * it over from a dead holder): as the holder, write every READY slot, its
   * own among them. Its own outcome is in its slot, failure included; the
   * errors of taking the lock (the log closed, recovery failing) are its own.
   */
  serve(slot: number, orphaned: boolean): void {
    const log = this.#log;
    try {
      log.enter(orphaned);
    } catch (err) {
      if (this.#ring.withdraw(slot)) throw err;
      return; // another holder took the slot meanwhile: its outcome will come
    }
    try {
      this.drain();
    } finally {
      log.unlock();
    }
  }
}
