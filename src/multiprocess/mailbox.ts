/**
 * The agent's side of what it shares with its caller (process-path.ts):
 * batches in, and the grant of direct commits out.
 *
 * Batches: the caller writes a whole BATCH frame into the shared mailbox, stores its id
 * in SENT and notifies; the agent sleeps on SENT with Atomics.waitAsync. No
 * message, no structured clone, no allocation per batch. The caller writes
 * the next batch only after this one is done, so one buffer serves.
 */
import type { HeldLock } from '../lockfile.js';
import type { LoggerHandle } from '../shared.js';
import type { OwnerGrant } from './owner-path.js';
import { BATCH_HEAD_BYTES } from './protocol.js';
import { OWNER_EPOCH, SENT, SENT_BYTES } from './slots.js';

/** A batch as the mailbox delivers it: views into the shared buffer, valid until it is done. */
export interface MailboxBatch {
  id: number;
  records: Uint8Array;
  frame: Uint8Array;
}

/** Deliver each batch the caller puts in `mailbox` to `take`, until `stopped()`. */
export async function watchMailbox(ctl: Int32Array, mailbox: Buffer, stopped: () => boolean, take: (batch: MailboxBatch) => void): Promise<void> {
  let seen = 0;
  while (!stopped()) {
    const waiting = Atomics.waitAsync(ctl, SENT, seen);
    if (waiting.async) await waiting.value;
    const id = Atomics.load(ctl, SENT);
    if (id === seen || stopped()) continue;
    seen = id;
    const frame = mailbox.subarray(0, BATCH_HEAD_BYTES + Atomics.load(ctl, SENT_BYTES));
    take({ id, records: frame.subarray(BATCH_HEAD_BYTES), frame });
  }
}

/**
 * The grant of direct commits for the agent's new ownership (owner-path.ts),
 * from the share() handle of its log and the stamp of the lock file it
 * created. Post it, then call the returned publish(): the caller that sees
 * the new epoch finds the grant already on its port.
 */
export function ownerGrant(ctl: Int32Array, handle: LoggerHandle, lock: HeldLock): { grant: OwnerGrant; publish(): void } {
  const epoch = (Atomics.load(ctl, OWNER_EPOCH) + 1) | 0;
  // Only the stamp's fields: a BigIntStats does not cross postMessage as one.
  const { ino, dev, mtimeNs, size } = lock.stamp;
  const grant: OwnerGrant = { type: 'grant', epoch, state: handle.state, lockFile: lock.path, stamp: { ino, dev, mtimeNs, size } };
  return { grant, publish: () => Atomics.store(ctl, OWNER_EPOCH, epoch) };
}
