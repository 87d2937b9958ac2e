/**
 * What rollover and recovery need from the commit path that runs them: the
 * log's files and shared state, and this thread's descriptor. The thread
 * commit path is one; a process owner's path will be another.
 */
import type { FsOps } from '../fsops.js';
import type { SharedState } from '../shared.js';
import type { QueuedEvent } from './events.js';
import type { Settings } from './options.js';

export interface LogContext {
  /** Absolute path of the current file. */
  readonly path: string;
  readonly fs: FsOps;
  readonly state: SharedState;
  readonly settings: Settings;
  /** fdatasync(2) each commit and fsync(2) the directory after a rollover. */
  readonly fsync: boolean;
  /** This thread's descriptor of the current file, or -1. */
  readonly fd: number;
  /**
   * Under the lock: make `fd` this thread's descriptor of a current file
   * that is new to every thread (`size` bytes), and bump the generation so
   * the others reopen it.
   */
  useFd(fd: number, size: number): void;
  /**
   * Throw ERR_FENCED if this participant no longer owns the log: a
   * multi-process owner whose lock file a successor replaced (it was
   * stopped, and resumed). Called before each step of a rollover that
   * creates or replaces a name; a no-op for loggers that need no fencing.
   */
  fence(): void;
  /** Report an event once the lock is released. */
  queue(event: QueuedEvent): void;
}
