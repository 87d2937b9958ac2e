/**
 * THE SEAM between a BinaryLogger and the files: the commit path takes
 * whole framed records and gets them into the log under the log's lock.
 *
 * One implementation today: ThreadCommitPath (thread-path.ts), in which
 * every thread of the process appends through its own descriptor under a
 * lock in a SharedArrayBuffer. A second one (issue 11: a client in another
 * process that sends framed batches over a Unix socket to the owner
 * process) plugs in here, in openCommitPath(), without touching the public
 * class. The owner side of such a server feeds the batches it receives into
 * its own local path's commit(): a commit takes framed records from
 * anywhere, as the bytes that go into the file.
 */
import type { FsOps } from '../fsops.js';
import type { HeldLock } from '../lockfile.js';
import type { LoggerHandle } from '../shared.js';
import type { CommitEvents } from './events.js';
import type { Settings } from './options.js';
import { ProcessCommitPath } from '../multiprocess/process-path.js';
import { ThreadCommitPath, type ThreadAttachment } from './thread-path.js';

export interface CommitPath {
  /**
   * Append the whole framed records `buf[0, end)` (each `[length][payload]`,
   * as they go into the file), splitting at the record that brings the
   * current file to maxFileSize and rolling over there. Returns when the
   * records are handed to the OS (and fdatasync'd in the fsync modes).
   * Records larger than any staging buffer come through here too.
   *
   * On failure throws (the OS error naming the path, or ERR_LOGGER_CLOSED),
   * with no partial record left in the file, and sets {@link committed} to
   * the bytes of `buf` (a record boundary) that did reach the file: the
   * caller keeps the rest.
   */
  commit(buf: Uint8Array, end: number): void;
  /** After commit() threw: how many leading bytes of its buffer were committed. */
  readonly committed: number;
  /** True once the log was closed for everybody (by its owner, or after an unrecoverable failure). */
  readonly closed: boolean;
  /** True in the participant that opened the log: it runs the owner's housekeeping. */
  readonly owner: boolean;
  /**
   * Deliver the events (rotate, error) queued while the lock was held, to
   * the CommitEvents given at open. The caller calls it once its own state
   * is consistent again (after updating its staging buffer), because a
   * listener may write.
   */
  drainEvents(): void;
  /**
   * This participant leaves; in the owner, the log is closed for all. Does
   * not drain events: call drainEvents() after.
   */
  close(): void;
  /**
   * A handle a worker thread of this process attaches with. Every
   * implementation offers it: threads inside any process can still share
   * a log (issue 11).
   */
  share(): LoggerHandle;
}

/** What a commit path needs to open a log. */
export interface CommitPathRequest {
  /** Absolute path of the current file. */
  readonly path: string;
  readonly settings: Settings;
  readonly fs: FsOps;
  readonly events: CommitEvents;
  /** Join the log of another thread (from its share() handle) instead of opening it. */
  readonly attach?: ThreadAttachment | undefined;
  /** @internal A multi-process owner's note for the lock file (multiprocess/agent.ts). */
  readonly lockNote?: string | undefined;
  /**
   * @internal A multi-process owner: before each step of a rollover, check
   * that the lock file is still the one the owner created, and throw
   * ERR_FENCED if a successor replaced it. `'own'`: the lock this path
   * takes (multiprocess/agent.ts); a lock: the one the agent took, for the
   * owner's caller thread attached to it (multiprocess/owner-path.ts).
   */
  readonly fencing?: 'own' | Pick<HeldLock, 'path' | 'stamp'> | undefined;
}

/**
 * Open the commit path for a logger: the one place that chooses the
 * implementation.
 *
 * @throws the OS error naming the path, ERR_LOGGER_PATH_IN_USE, or
 *   CorruptLogError ERR_LOG_CORRUPT if the current file is not a log.
 */
export function openCommitPath(request: CommitPathRequest): CommitPath {
  // A multi-process logger in a worker thread (attach) joins as one more
  // client of the owner, with its own agent: it has no thread state to share.
  if (request.settings.multiProcess) return new ProcessCommitPath(request);
  return new ThreadCommitPath(request);
}
