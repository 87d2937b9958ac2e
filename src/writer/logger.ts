/**
 * BinaryLogger, the public class: validates, frames records into its
 * staging buffer (staging.ts) and hands them to its commit path
 * (commit-path.ts), which appends them under the log's lock and rolls over
 * (rollover.ts). The logger that opens a log also runs its housekeeping
 * (housekeeping.ts).
 *
 * In the default durability each record is committed at once, one write(2)
 * per record; the buffered modes commit when the staging buffer fills, on
 * flush() and after `flushInterval` ms. Whatever the buffering, a commit is
 * split at the record that makes the current file reach maxFileSize, so
 * every mode leaves byte-identical files.
 */
import '../polyfill.js';
import { EventEmitter } from 'node:events';
import { ERR_LOGGER_CLOSED, invalidArgType, isErrno, loggerClosed } from '../errors.js';
import { registerForExit, unregisterForExit, type Flushable } from '../exit.js';
import { nodeFs } from '../fsops.js';
import { readLog, type ReadLogOptions } from '../reader.js';
import { isHandle, type LoggerHandle } from '../shared.js';
import { checkPayload, toPath } from '../validate.js';
import { openCommitPath, type CommitPath } from './commit-path.js';
import type { BinaryLoggerEvents } from './events.js';
import { FlushTimer, Housekeeping } from './housekeeping.js';
import { isBuffered, parseOptions, SYNC_STAGING_BYTES, type BinaryLoggerOptions, type Durability } from './options.js';
import type { ReadResult } from './read-types.js';
import { frameAlone, Staging } from './staging.js';
import type { ThreadAttachment } from './thread-path.js';

/**
 * The internal constructor path of attach(): set just before `new` and
 * taken by the constructor at once, so no internal state travels in the
 * public options.
 */
let attaching: ThreadAttachment | undefined;

/**
 * A log of length-prefixed binary records with size-based rollover into
 * numbered backups, byte-compatible with the original Python logger.
 *
 * @example
 * ```ts
 * using logger = new BinaryLogger('./logs/events.bin', { maxFileSize: 1 << 20 });
 * logger.write('User login: user123');
 * for (const record of logger.read()) console.log(record);
 * ```
 */
export class BinaryLogger extends EventEmitter<BinaryLoggerEvents> implements Flushable, Disposable {
  /** Absolute path of the current file. */
  readonly path: string;
  readonly maxFileSize: number;
  readonly durability: Durability;

  #closed = false;
  readonly #buffered: boolean;
  readonly #staging: Staging;
  readonly #commitPath: CommitPath;
  /** The owner's housekeeping; undefined in attached loggers. */
  readonly #housekeeping: Housekeeping | undefined;
  readonly #timer: FlushTimer;

  /**
   * Open (or create) the log whose current file is `filePath`.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` / RangeError `ERR_OUT_OF_RANGE`
   *   for bad options; the OS error (EISDIR, EACCES, ...) naming the path if
   *   the file cannot be opened; `ERR_LOGGER_PATH_IN_USE` if another logger
   *   has the log open; CorruptLogError `ERR_LOG_CORRUPT` if the current
   *   file is not a log (it is left as it is).
   */
  constructor(filePath: string | URL, maxFileSize: number);
  constructor(filePath: string | URL, options: BinaryLoggerOptions);
  constructor(filePath: string | URL, options: number | BinaryLoggerOptions) {
    super();
    const attach = attaching;
    attaching = undefined;
    this.path = toPath(filePath);
    const settings = parseOptions(options);
    this.maxFileSize = settings.maxFileSize;
    this.durability = settings.durability;
    this.#buffered = isBuffered(settings.durability);
    this.#staging = new Staging(this.#buffered ? settings.bufferSize : SYNC_STAGING_BYTES);
    this.#timer = new FlushTimer(settings.flushInterval, () => this.#flushInBackground());
    const fs = (typeof options === 'object' && options !== null && options.fs) || nodeFs;
    this.#commitPath = openCommitPath({
      path: this.path,
      settings,
      fs,
      attach,
      events: { rotated: (backup) => this.#rotated(backup), failed: (err) => this.#reportError(err) },
    });
    if (this.#commitPath.owner) {
      this.#housekeeping = new Housekeeping(this.path, settings, fs, {
        compressed: (gz) => this.emit('compress', gz),
        failed: (err) => this.#reportError(err),
      });
      this.#housekeeping.atOpen();
    }
    if (this.#buffered) registerForExit(this);
    this.#commitPath.drainEvents();
  }

  /**
   * A handle to pass to a worker thread (in workerData or postMessage);
   * `BinaryLogger.attach(handle)` there gives a logger on the same log.
   */
  share(): LoggerHandle {
    if (this.closed) throw loggerClosed(this.path);
    return this.#commitPath.share();
  }

  /**
   * A logger on the log that `handle` (from share()) names, writing under
   * the same lock into the same files. Its close() detaches this thread only.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` if `handle` is not from share().
   * @example
   * ```ts
   * // main thread
   * new Worker('./worker.js', { workerData: { log: logger.share() } });
   * // worker.js
   * const logger = BinaryLogger.attach(workerData.log);
   * ```
   */
  static attach(handle: LoggerHandle, internal?: Pick<BinaryLoggerOptions, 'fs'>): BinaryLogger {
    if (!isHandle(handle)) throw invalidArgType('handle', 'a handle returned by BinaryLogger#share()', handle);
    const options = { ...parseOptions(handle.options), fs: internal?.fs };
    attaching = { state: handle.state, channel: handle.channel };
    try {
      return new BinaryLogger(handle.path, options);
    } finally {
      attaching = undefined;
    }
  }

  /** True once close() was called on this logger, or the owner closed the log. */
  get closed(): boolean {
    return this.#closed || this.#commitPath.closed;
  }

  /**
   * True while the logger takes writes. Stream consumers look for it: with
   * it, `pino(logger)` takes the logger as its destination, not as options.
   */
  get writable(): boolean {
    return !this.closed;
  }

  /** Bytes framed by this logger and not yet handed to the OS (buffered modes). */
  get pendingBytes(): number {
    return this.#buffered ? this.#staging.used : 0;
  }

  /**
   * Append one record. In `'sync'` and `'fsync'` durability it is in the
   * file when write() returns; in the buffered modes, once flush() returns.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a payload that is neither
   *   a string nor a Uint8Array; TypeError `ERR_INVALID_ARG_VALUE` for a
   *   string with a lone surrogate; RangeError `ERR_OUT_OF_RANGE` for a
   *   payload over MAX_PAYLOAD_BYTES; Error `ERR_LOGGER_CLOSED` after
   *   close(); the OS error (ENOSPC, ...) if the file cannot be written, in
   *   which case no byte of the record is left in the file.
   */
  write(payload: string | Uint8Array): void {
    // The owner may have closed the log from another thread: a buffered
    // write must not be taken into a buffer that can never be flushed.
    if (this.#closed || this.#commitPath.closed) {
      if (!this.#closed) this.close();
      throw loggerClosed(this.path);
    }
    checkPayload(payload);
    const staging = this.#staging;
    let wasEmpty = staging.used === 0;
    if (!staging.tryAppend(payload)) {
      if (staging.tooLarge(payload)) {
        const framed = frameAlone(payload); // refuses an oversized payload before anything is committed
        if (staging.used > 0) this.#commitStaging();
        return this.#commitAlone(framed);
      }
      this.#commitStaging();
      wasEmpty = true;
      staging.tryAppend(payload);
    }
    if (!this.#buffered) return this.#commitStaging();
    if (wasEmpty) this.#timer.arm();
  }

  /**
   * Hand every record this logger has buffered to the OS (and to the disk in
   * `'buffered-fsync'`). When flush() returns, every record written before
   * it is safe. A no-op in `'sync'` and `'fsync'`.
   *
   * @throws Error `ERR_LOGGER_CLOSED` after close(); the OS error if the
   *   records cannot be written (they stay buffered, and a later flush()
   *   tries again).
   */
  flush(callback?: (err?: Error | null) => void): void {
    if (callback) {
      // The form pino and stream users call: errors go to the callback.
      let failure: Error | null = null;
      try {
        this.flush();
      } catch (err) {
        failure = err as Error;
      }
      process.nextTick(callback, failure);
      return;
    }
    if (this.closed) throw loggerClosed(this.path);
    if (this.#staging.used > 0) this.#commitStaging();
  }

  /**
   * Flush, then close. Closing the logger that opened the log closes it for
   * every thread; closing an attached logger detaches this thread only.
   * A second close() does nothing.
   */
  close(): void {
    if (this.#closed) return;
    let failure: unknown;
    try {
      if (this.#staging.used > 0 && !this.#commitPath.closed) this.#commitStaging();
    } catch (err) {
      failure = err;
    }
    this.#closed = true;
    this.#staging.used = 0;
    this.#timer.clear();
    if (this.#buffered) unregisterForExit(this);
    this.#commitPath.close();
    this.#commitPath.drainEvents();
    if (failure !== undefined) throw failure;
  }

  /** Close at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Every record of the log at `filePath` (default: this logger's), oldest
   * first: backups in numeric order of seq, then the current file, with
   * readLog()'s options (`encoding: 'buffer'` for raw bytes, positions, a
   * start position). Flushes this logger first, so it sees its own writes.
   *
   * @throws CorruptLogError `ERR_LOG_CORRUPT` (after yielding the records
   *   before it) where a backup holds a partial record.
   * @example
   * ```ts
   * for (const bytes of logger.read({ encoding: 'buffer' })) console.log(bytes);
   * ```
   */
  read<O extends ReadLogOptions = {}>(options?: O): IterableIterator<ReadResult<O>>;
  read<O extends ReadLogOptions = {}>(filePath: string | URL | undefined, options?: O): IterableIterator<ReadResult<O>>;
  read(first?: string | URL | ReadLogOptions, second?: ReadLogOptions): IterableIterator<unknown> {
    const named = typeof first === 'string' || first instanceof URL;
    const path = named ? toPath(first) : this.path;
    const options = named || first === undefined ? second : first;
    if (path === this.path && !this.closed && this.#staging.used > 0) this.#commitStaging();
    return readLog(path, options);
  }

  /**
   * Resolves once every backup sealed so far is compressed (`compress`
   * option); at once otherwise.
   */
  whenCompressed(): Promise<void> {
    return this.#housekeeping?.whenCompressed() ?? Promise.resolve();
  }

  /** @internal Used by the exit hooks: flush, never throw. */
  flushOnExit(): void {
    try {
      if (!this.closed && this.#staging.used > 0) this.#commitStaging();
    } catch {
      // The process is ending; there is nobody left to tell.
    }
  }

  /** Commit the staging buffer; on failure keep the unwritten records staged. */
  #commitStaging(): void {
    const staging = this.#staging;
    const end = staging.used;
    try {
      this.#commitPath.commit(staging.buf, end);
    } catch (err) {
      staging.keep(this.#commitPath.committed, end);
      this.#commitPath.drainEvents();
      if (!this.#buffered || (isErrno(err, ERR_LOGGER_CLOSED) && this.closed)) staging.used = 0;
      throw err;
    }
    staging.used = 0;
    this.#timer.clear();
    this.#commitPath.drainEvents();
  }

  /** Commit one record framed on its own (too large to stage). */
  #commitAlone(framed: Buffer): void {
    try {
      this.#commitPath.commit(framed, framed.length);
    } finally {
      this.#commitPath.drainEvents();
    }
  }

  #flushInBackground(): void {
    if (this.#closed || this.#staging.used === 0) return;
    try {
      this.#commitStaging();
    } catch (err) {
      if (this.closed) return;
      this.#reportError(err);
      if (this.#staging.used > 0) this.#timer.arm();
    }
  }

  /** A backup was sealed (by this thread, or by any thread in the owner). */
  #rotated(backup: string): void {
    this.emit('rotate', backup);
    this.#housekeeping?.rotated(backup);
  }

  /** A background failure: an 'error' event if anyone listens, else a warning. */
  #reportError(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err as Error);
    else {
      const e = err as Error & { code?: string };
      process.emitWarning(e.message ?? String(err), { code: e.code ?? 'BINLOG_ERROR' });
    }
  }
}
