/**
 * What the writer reports, typed: the events BinaryLogger emits, and the
 * events a commit path queues under the lock for delivery after it.
 */

/**
 * The events of a BinaryLogger and their listeners' arguments. tsc checks
 * `logger.on('rotate', (backup: string) => ...)` against this map.
 */
export interface BinaryLoggerEvents {
  /** A rollover sealed the current file as `backupPath` (by any thread). */
  rotate: [backupPath: string];
  /** The `compress` option gzipped a backup into `gzPath`. */
  compress: [gzPath: string];
  /**
   * A failure in the background (a rollover, retention, compression, a
   * timed flush). With no listener it becomes a process warning instead.
   */
  error: [error: Error];
}

/**
 * An event a commit path queued while it held the lock. Listeners may
 * write, so events are delivered only once the lock is released.
 */
export type QueuedEvent = { readonly kind: 'rotate'; readonly backup: string } | { readonly kind: 'error'; readonly error: unknown };

/**
 * Where a commit path delivers its events; the BinaryLogger that owns the
 * path implements it. Called outside the lock, in order.
 */
export interface CommitEvents {
  /**
   * A backup was sealed: by this thread's path, or (in the thread that
   * opened the log) by any thread.
   */
  rotated(backup: string): void;
  /** A background failure to report (an 'error' event or a warning). */
  failed(error: unknown): void;
}
