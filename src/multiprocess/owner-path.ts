/**
 * The owner's fast path: while this process owns the log, its caller's
 * thread commits straight to the files, through the threads' commit path
 * (writer/thread-path.ts) attached to the agent's shared state, under the
 * same SharedArrayBuffer lock the agent takes for the remote clients'
 * batches. The owner's own write() then costs what a single-process
 * write() costs plus one stat(2) for fencing, instead of a round trip
 * through its agent thread (bench/multiprocess.js, "multiProcess, 1 process").
 *
 * The agent grants this path (a GRANT message with its shared state and
 * the stamp of the lock file it created) each time it becomes the owner,
 * under a new epoch. Rotations this thread makes are reported to the agent
 * on the caller's own port (ordered before a later close, which the
 * threads' BroadcastChannel is not), and the agent reports them back as it
 * does its own, and runs the housekeeping. Fencing stays before every commit,
 * here as in the agent: a lock file that is no longer the one the agent
 * created means another process took over, and nothing is written.
 */
import { randomUUID } from 'node:crypto';
import { ERR_FENCED, ERR_LOGGER_CLOSED, isErrno } from '../errors.js';
import { nodeFs } from '../fsops.js';
import { lockStillHeld, type LockStamp } from '../lockfile.js';
import { ThreadCommitPath } from '../writer/thread-path.js';
import type { CommitEvents } from '../writer/events.js';
import type { Settings } from '../writer/options.js';

/** Agent -> caller: "I am the owner; commit directly under this lock". */
export interface OwnerGrant {
  readonly type: 'grant';
  /** The agent's OWNER_EPOCH slot when the grant was made. */
  readonly epoch: number;
  readonly state: SharedArrayBuffer;
  /** The lock file the agent created, and its stamp (lockfile.ts HeldLock). */
  readonly lockFile: string;
  readonly stamp: LockStamp;
}

/** The file-writing settings the owner's agent opened the log with (agent.ts becomeOwner). */
export function ownerSettings(settings: Settings, fsync: boolean): Settings {
  return { ...settings, durability: fsync ? 'fsync' : 'sync', multiProcess: false };
}

export class OwnerDirectPath {
  readonly epoch: number;
  readonly #lockFile: string;
  readonly #stamp: LockStamp;
  readonly #local: ThreadCommitPath;

  /** Attach to the agent's log; `events` receive this thread's rotations and background failures. */
  constructor(grant: OwnerGrant, path: string, settings: Settings, events: CommitEvents) {
    this.epoch = grant.epoch;
    this.#lockFile = grant.lockFile;
    this.#stamp = grant.stamp;
    this.#local = new ThreadCommitPath({
      path,
      settings,
      fs: nodeFs,
      // A channel nobody listens on: see the module comment.
      attach: { state: grant.state, channel: `binary-logger:direct:${randomUUID()}` },
      // Rollover steps check the agent's lock, as the agent's own do.
      fencing: { path: grant.lockFile, stamp: grant.stamp },
      events,
    });
  }

  /** After commit() threw: the bytes that reached the file. */
  get committed(): number {
    return this.#local.committed;
  }

  /**
   * Commit `buf[0, end)` while this process is the owner. Returns how many
   * bytes (whole records) it wrote: `end`, or less if it found it is not
   * the owner any more (fenced, before the commit or at a rollover step, or
   * the agent stepped down and closed its log): the caller sends the rest
   * through the agent. Throws the OS error (see {@link committed}) as a
   * single-process commit does.
   */
  tryCommit(buf: Uint8Array, end: number): number {
    if (!lockStillHeld(this.#lockFile, this.#stamp)) return 0;
    try {
      this.#local.commit(buf, end);
      return end;
    } catch (err) {
      // Closed is checked under the lock before any byte is written; a
      // fenced rollover leaves the records before it in the file.
      if (isErrno(err, ERR_LOGGER_CLOSED)) return 0;
      if (isErrno(err, ERR_FENCED)) return this.#local.committed;
      throw err;
    }
  }

  drainEvents(): void {
    this.#local.drainEvents();
  }

  /** Detach this thread (closes its descriptor; the agent's log stays open). */
  close(): void {
    this.#local.close();
  }
}
