/**
 * How a writer whose records wait in a commit ring slot (ring.ts) waits:
 * until a holder has written them, or until it can take the lock and write
 * them itself (with every other waiting slot).
 *
 * It spins first, briefly (SLOT_SPIN_LOOKS looks, watching only its
 * slot's state word between looks at the lock), if the spinner quota
 * (SharedState.startSpinning: one fewer than the cores) leaves it a core:
 * the holder's write(2) is done in a microsecond or two, and a sleep and a
 * wake-up cost ~44 us here (measured, Atomics.wait/notify ping-pong on 2
 * cores), more than many writes. Then it sleeps
 * on the slot's event count, which a holder bumps when it finishes the slot
 * and a releasing thread bumps when the slot is still READY and the lock is
 * free (then the sleeper takes the lock and writes every READY slot); the
 * bumper notifies only a sleeper (ring.ts #wake). With more threads than
 * cores the quota is taken and the rest sleep at once, leaving the cores to
 * the holder and one spinner. A sleeper also wakes every HOLDER_CHECK_MS to
 * take over the lock from a holder that died (the lock word holds the
 * holder's thread id).
 */
import { loggerClosed } from '../errors.js';
import { HOLDER_CHECK_MS, LOCK, SPIN_LIMIT, type SharedState } from '../shared.js';
import { READY, type CommitRing } from './ring.js';

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
  let spins = st.startSpinning() ? SLOT_SPIN_LOOKS : 0;
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
        if (Atomics.load(st.i32, LOCK) === 0 && st.tryAcquire()) {
          waiter.serve(slot, false);
          continue;
        }
      }
      if (spins > 0) {
        // Between the looks above, watch only our slot's state word: every
        // read of a word the holder writes (the lock, the ring's counters)
        // pulls its cache line away from the holder's core.
        ring.quietSpin(slot, QUIET_LOOKS);
        spins -= QUIET_LOOKS;
        if (spins <= 0) {
          spins = 0;
          st.stopSpinning();
        }
        continue;
      }
      // A dead holder may have taken this slot: the takeover settles it.
      if (ring.wait(slot, ticket, HOLDER_CHECK_MS) === 'timed-out' && st.takeOverIfDead()) waiter.serve(slot, true);
    }
  } finally {
    if (spins > 0) st.stopSpinning();
  }
}

/**
 * Looks at the slot before sleeping: a few microseconds (a load each), a
 * few times what a holder's combined write(2) takes.
 */
const SLOT_SPIN_LOOKS = 4 * SPIN_LIMIT;

/** Looks at the slot's state alone between two looks at the lock. */
const QUIET_LOOKS = 16;
