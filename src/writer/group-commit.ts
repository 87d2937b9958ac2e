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
import { awaitSlot, awaitSlotSticky, type SlotWaiter } from './slot-wait.js';

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

/** 'sync': own commits alone in a row after which holders no longer count as combining. */
const SOLO_COMMITS = 64;

const QUOTA_OFF = process.env.BINLOG_EXP_QUOTA === '0';

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

  /** 'sync': the sticky policy (see #mayTake and slot-wait.ts); 'fsync': spin for the lock first. */
  readonly #sticky: boolean;
  readonly #me = threadToken();
  /** 'sync': commits in a row that this thread, holding the lock, wrote alone. */
  #solo = 0;

  constructor(ring: CommitRing, log: LockedLog, sticky = false) {
    this.#ring = ring;
    this.#log = log;
    this.#sticky = sticky;
  }

  /**
   * 'sync': take a free lock, unless threads are combining and another
   * thread held it last: that one is back within a microsecond (its next
   * record) and writes ours with its own from the core it runs on.
   */
  #takeSticky(): boolean {
    const ring = this.#ring;
    const last = ring.last;
    const D = (globalThis as any).__dbg;
    if (last !== this.#me && last !== 0 && ring.combining) { if (D) D.queueFree++; return false; }
    const ok = this.#log.state.tryAcquire();
    if (D) { if (!ok) D.queueHeld++; else if (last === this.#me) D.takeSticky++; else if (last===0) D.take0++; else D.takeNotCombining++; }
    return ok;
  }

  /**
   * Under the lock ('sync'): tell the others whether holders combine. On
   * after a batch with other threads' records in it, off after
   * SOLO_COMMITS of our own alone in a row: then nobody waits for the last
   * holder to come back (a thread that writes now and then takes a free
   * lock at once).
   */
  #combined(withOthers: boolean): void {
    if (withOthers) {
      this.#solo = 0;
      this.#ring.combining = true;
    } else if (++this.#solo === SOLO_COMMITS) this.#ring.combining = false;
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
      if (this.#sticky ? this.#takeSticky() : st.tryAcquire() || st.spinAcquire()) {
        log.enter(false);
        try {
          this.#combine(buf, pos, end);
        } finally {
          log.unlock();
        }
        return;
      }
      // 'sync': queue only as the one spinner a core is left for (the
      // spinner quota); with more threads than cores the rest wait for the
      // lock itself, as without combining (measured: queued sleepers cost
      // a futex wake-up per record).
      const queue = !this.#sticky || QUOTA_OFF || st.startSpinning();
      const slot = queue ? ring.claim(threadToken()) : -1;
      if (slot < 0) {
        if (queue && this.#sticky && !QUOTA_OFF) st.stopSpinning();
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
      if (this.#sticky) awaitSlotSticky(st, ring, slot, this, !QUOTA_OFF);
      else awaitSlot(st, ring, slot, this);
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
    if (ring.pending === 0) {
      if (this.#sticky) this.#combined(false);
      return log.append(buf, from, end);
    }
    const batch = (this.#batch ??= new Batch());
    batch.fill(ring, buf, from, end);
    if (this.#sticky) this.#combined(batch.slots.length > 0);
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
