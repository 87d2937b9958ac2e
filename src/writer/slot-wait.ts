/**
 * How a writer whose records wait in a commit ring slot (ring.ts) waits:
 * until a holder has written them, or until it can take the lock and write
 * them itself (with every other waiting slot).
 *
 * It spins only while holders make progress (the ring's PROGRESS count
 * moves: the holder is running), and only if a core is left for spinning
 * (SharedState's spin quota); otherwise it sleeps on the slot's event
 * count, which a holder bumps when it finishes the slot and a releasing
 * thread bumps when the slot is still READY and the lock is free. A
 * sleeper also wakes every HOLDER_CHECK_MS to take over the lock from a
 * holder that died (the lock word holds the holder's thread id).
 */
import { loggerClosed } from '../errors.js';
import { HOLDER_CHECK_MS, LOCK, SPIN_LIMIT, type SharedState } from '../shared.js';
import { READY, type CommitRing } from './ring.js';

/**
 * How many looks at a free lock before a waiter takes it (a microsecond or two): the
 * thread that just released it is usually back with its next record by
 * then, and writes ours with it, in one write(2), instead of each thread
 * writing its own (issue 13: group commit only pays when records meet).
 */
const GRACE_SPINS = 50;

export interface SlotWaiter {
  /** The log's path, for ERR_LOGGER_CLOSED. */
  readonly path: string;
  /**
   * Called holding the lock (taken over from a dead holder if `orphaned`):
   * write what waits in the ring, releasing the lock after.
   */
  serve(slot: number, orphaned: boolean): void;
}

/**
 * Wait for the outcome of `slot` (published READY by this thread), serving
 * the ring whenever the lock is free; returns it (ring.outcome()). Throws
 * ERR_LOGGER_CLOSED (the slot withdrawn, nothing written) if the log
 * closes first.
 */
export function awaitSlot(st: SharedState, ring: CommitRing, slot: number, waiter: SlotWaiter): number {
  let spinning = st.startSpinning();
  let spins = 0;
  let progress = ring.progress;
  let freeSeen = 0;
  try {
    for (;;) {
      const ticket = ring.ticket(slot);
      const outcome = ring.outcome(slot);
      if (outcome !== 0) return outcome;
      if (ring.state(slot) === READY) {
        if (st.closed) {
          if (ring.withdraw(slot)) throw loggerClosed(waiter.path);
          continue;
        }
        // A spinner gives the thread that just released the lock a moment
        // to come back and take our records along; a sleeper was woken to
        // take the lock, and takes it.
        if (Atomics.load(st.i32, LOCK) !== 0) freeSeen = 0;
        else if ((!spinning || ++freeSeen >= GRACE_SPINS) && st.tryAcquire()) {
          freeSeen = 0;
          waiter.serve(slot, false);
          continue;
        }
      }
      if (spinning) {
        const now = ring.progress;
        if (now !== progress) {
          // A holder is running and writing: its next batch takes us.
          progress = now;
          spins = 0;
        }
        if (++spins < SPIN_LIMIT) continue;
        st.stopSpinning();
        spinning = false;
      }
      // A dead holder may have taken this slot: the takeover settles it.
      if (ring.wait(slot, ticket, HOLDER_CHECK_MS) === 'timed-out' && st.takeOverIfDead()) waiter.serve(slot, true);
    }
  } finally {
    if (spinning) st.stopSpinning();
  }
}
