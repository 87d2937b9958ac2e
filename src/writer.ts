/**
 * BinaryLogger: open a log, cut a torn tail, append records, roll over.
 *
 * Every write frames its record into a staging buffer and commits it under
 * the log's lock (shared.ts). In the default durability the staging buffer
 * is committed at once, one write(2) per record; the buffered modes commit
 * it when it fills, on flush() and after `flushInterval` ms. Whatever the
 * buffering, a commit is split at the record that makes the current file
 * reach maxFileSize, so every mode leaves byte-identical files.
 *
 * Rollover (docs/FORMAT.md, "Rollover and recovery") never overwrites and
 * never leaves the log unreadable at any crash point:
 *   1. create the empty next current file under a temporary dot-name;
 *   2. link(current -> backup): seals the backup, fails if the name exists;
 *   3. rename(temporary -> current): atomically puts the fresh file in place;
 *   4. bump the shared generation: every other thread reopens the current
 *      file by path before its next write.
 * repair() finishes or undoes a rollover that a crash interrupted.
 */
import './polyfill.js';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { constants as fsConstants } from 'node:fs';
import { BroadcastChannel } from 'node:worker_threads';
import {
  ERR_LOGGER_CLOSED,
  WARN_CURRENT_FILE_CHANGED,
  WARN_ROLLOVER_RECOVERED,
  WARN_TORN_TAIL,
  invalidArgType,
  isErrno,
  loggerClosed,
  outOfRange,
  rolloverFailed,
} from './errors.js';
import { releaseLock, takeLock } from './lockfile.js';
import { applyRetention, compressBackup, hasLimits, plainBackups, removeCompressionLeftovers, type RetentionLimits } from './retention.js';
import { registerForExit, unregisterForExit, type Flushable } from './exit.js';
import { HEADER_BYTES, MAX_PAYLOAD_BYTES, lastWholeRecordEnd, readHeader, rolloverPoint, writeHeader } from './format.js';
import { APPEND_FLAGS, DIR_FLAGS, FRESH_FLAGS, nodeFs, withPath, writeAll, type FsOps } from './fsops.js';
import { backupPath, listBackups, nextSeq, rolloverTempPath, splitName } from './naming.js';
import { readLog, type LogEntry, type ReadLogOptions } from './reader.js';
import {
  CHECK_AT,
  CLOSED,
  GENERATION,
  HANDLE_TAG,
  PHASE,
  PHASE_IDLE,
  PHASE_ROLLING,
  ROLL_FAILING,
  ROLL_RETRY_AT,
  SEQ,
  SIZE,
  SharedState,
  isHandle,
  type LoggerHandle,
} from './shared.js';
import { MAX_CLIENT_PAYLOAD_BYTES, ProcessCommitPath } from './multiprocess/commit-path.js';
import { checkPayload, oneOf, optionalBoolean, optionalNonNegativeInteger, positiveInteger, toPath } from './validate.js';

/**
 * When a write() is safe:
 * - `'sync'`: handed to the OS before write() returns (survives a crash of
 *   the process, not a power loss). One write(2) per record.
 * - `'buffered'`: framed into a staging buffer and written in large chunks:
 *   when the buffer fills, on flush()/close(), after `flushInterval` ms, and
 *   when the process exits. A SIGKILL or power loss loses what was not yet
 *   flushed; a record is safe once flush() returns.
 * - `'fsync'`: as `'sync'`, plus fdatasync(2) before write() returns, and
 *   fsync(2) of the directory after a rollover: survives power loss.
 * - `'buffered-fsync'`: as `'buffered'`, with one fdatasync(2) per flush
 *   (group commit): a record is on disk once flush() returns.
 */
export type Durability = 'sync' | 'buffered' | 'fsync' | 'buffered-fsync';
export const DURABILITIES: readonly Durability[] = ['sync', 'buffered', 'fsync', 'buffered-fsync'];

export interface BinaryLoggerOptions {
  /** Roll over once a write leaves the current file at or above this many bytes. Required. */
  maxFileSize: number;
  /** When a write is safe; see {@link Durability}. Defaults to `'sync'`. */
  durability?: Durability;
  /**
   * Staging buffer size in bytes for the buffered modes: the most memory
   * unflushed records take, and the size of each write(2). A record larger
   * than this is written directly. Defaults to 1 MiB (1048576).
   */
  bufferSize?: number;
  /**
   * In the buffered modes, the longest a record waits in the staging buffer
   * before it is written, in ms. 0 flushes only when the buffer fills, on
   * flush(), close() and exit. Defaults to 100.
   */
  flushInterval?: number;
  /**
   * Keep at most this many backups, deleting the oldest after each rollover
   * (and at open). The newest backup is always kept, so numbering goes on
   * from it after a restart. Defaults to no limit.
   */
  maxFiles?: number;
  /**
   * Keep the backups' total size on disk at most this many bytes, deleting
   * the oldest (never the newest). Defaults to no limit.
   */
  maxTotalSize?: number;
  /**
   * Delete backups last modified more than this many ms ago (never the
   * newest), checked after each rollover and at open. Defaults to no limit.
   */
  maxAge?: number;
  /**
   * Gzip each sealed backup (`events.0.bin` -> `events.0.bin.gz`) in the
   * background, in the thread that opened the log. read(), readLog(),
   * follow() and the CLI read them transparently. Defaults to false.
   */
  compress?: boolean;
  /**
   * Let several processes (node:cluster or PM2 workers, independent
   * services) open this log at once: the first becomes its owner and writes
   * the files, the others hand their records to it over a local socket, and
   * one of them takes over if the owner dies. Every process must pass it,
   * with the same file-shaping options. See "Several processes" in the
   * README. Defaults to false: a second process gets ERR_LOGGER_PATH_IN_USE.
   */
  multiProcess?: boolean;
  /** @internal File-system calls, for tests that make them fail. */
  fs?: FsOps;
  /** @internal A multi-process owner's note for the lock file (multiprocess/agent.ts). */
  lockNote?: string;
}

const DEFAULT_BUFFER_SIZE = 1 << 20;
const DEFAULT_FLUSH_INTERVAL_MS = 100;
/** Staging in 'sync' mode only needs to hold one ordinary record. */
const SYNC_STAGING_BYTES = 64 * 1024;
/** A failed rollover is retried at a write this long after the failure. */
const ROLLOVER_RETRY_MS = 1000;
/** Chunk size for scanning the current file for a torn tail. */
const SCAN_CHUNK_BYTES = 1 << 20;
const FILE_MODE = 0o666;

/**
 * How often the current file is checked against the path, in ms: a file
 * deleted, truncated or replaced by another program (logrotate's
 * copytruncate) is noticed at the first commit after this long.
 */
const CHECK_INTERVAL_MS = 1000;

interface Settings extends RetentionLimits {
  maxFileSize: number;
  durability: Durability;
  bufferSize: number;
  flushInterval: number;
  compress: boolean;
  multiProcess: boolean;
}

function parseOptions(arg: unknown): Settings {
  const options: Record<string, unknown> =
    typeof arg === 'number' || typeof arg !== 'object' || arg === null ? { maxFileSize: arg } : (arg as Record<string, unknown>);
  const {
    maxFileSize,
    durability = 'sync',
    bufferSize = DEFAULT_BUFFER_SIZE,
    flushInterval = DEFAULT_FLUSH_INTERVAL_MS,
    maxFiles,
    maxTotalSize,
    maxAge,
    compress = false,
    multiProcess = false,
  } = options;
  const settings: Settings = {
    maxFileSize: positiveInteger(maxFileSize, 'maxFileSize'),
    durability: oneOf(durability, 'durability', DURABILITIES, 'sync'),
    bufferSize: positiveInteger(bufferSize, 'bufferSize'),
    flushInterval: optionalNonNegativeInteger(flushInterval, 'flushInterval') ?? DEFAULT_FLUSH_INTERVAL_MS,
    maxFiles: maxFiles === undefined ? undefined : positiveInteger(maxFiles, 'maxFiles'),
    maxTotalSize: optionalNonNegativeInteger(maxTotalSize, 'maxTotalSize'),
    maxAge: optionalNonNegativeInteger(maxAge, 'maxAge'),
    compress: optionalBoolean(compress, 'compress', false),
    multiProcess: optionalBoolean(multiProcess, 'multiProcess', false),
  };
  if (settings.bufferSize < 64) throw outOfRange('bufferSize', '>= 64', settings.bufferSize);
  if (settings.flushInterval > 0x7fff_ffff) throw outOfRange('flushInterval', '<= 2147483647', settings.flushInterval);
  return settings;
}

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
export class BinaryLogger extends EventEmitter implements Flushable, Disposable {
  /** Absolute path of the current file. */
  readonly path: string;
  readonly maxFileSize: number;
  readonly durability: Durability;

  #fs: FsOps;
  #state: SharedState;
  /** This thread's descriptor of the current file, or -1. Never shared. */
  #fd = -1;
  /** The shared generation #fd was opened at. */
  #gen = -1;
  #owner: boolean;
  /** The owner's lock file, released by close(). */
  #lockFile: { path: string; content: string } | undefined;
  #closed = false;
  #buffered: boolean;
  #fsync: boolean;
  #flushInterval: number;
  #staging: Buffer;
  #used = 0;
  /** Bytes of the staging buffer the commit in progress has written. */
  #committed = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Events to emit once the lock is released (listeners may write). */
  #pending: Array<[string, unknown]> = [];
  #settings: Settings;
  /** Rotations reach the owner (events, compression) through this channel. */
  #channel: BroadcastChannel | undefined;
  #channelName: string;
  /** Backups waiting to be compressed, in order; the owner works through them. */
  #compressing: Promise<void> = Promise.resolve();
  #onTimer = (): void => this.#flushInBackground();
  /** In a multi-process log: the path to the owner, instead of the files. */
  #remote: ProcessCommitPath | undefined;

  /**
   * Open (or create) the log whose current file is `filePath`.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` / RangeError `ERR_OUT_OF_RANGE`
   *   for bad options; the OS error (EISDIR, EACCES, ...) naming the path if
   *   the file cannot be opened; `ERR_LOGGER_PATH_IN_USE` if this thread
   *   already has a logger open on the path.
   */
  constructor(filePath: string | URL, maxFileSize: number);
  constructor(filePath: string | URL, options: BinaryLoggerOptions);
  constructor(filePath: string | URL, options: number | BinaryLoggerOptions) {
    super();
    this.path = toPath(filePath);
    const settings = parseOptions(options);
    const fsOps = (typeof options === 'object' && options !== null && options.fs) || nodeFs;
    this.maxFileSize = settings.maxFileSize;
    this.durability = settings.durability;
    this.#settings = settings;
    this.#fs = fsOps;
    this.#buffered = settings.durability === 'buffered' || settings.durability === 'buffered-fsync';
    this.#fsync = settings.durability === 'fsync' || settings.durability === 'buffered-fsync';
    this.#flushInterval = settings.flushInterval;
    this.#staging = Buffer.allocUnsafeSlow(this.#buffered ? settings.bufferSize : SYNC_STAGING_BYTES);

    const attach = settings.multiProcess ? undefined : (options as { [ATTACH]?: { state: SharedArrayBuffer; channel: string } })[ATTACH];
    const attachState = attach?.state;
    this.#owner = attachState === undefined && !settings.multiProcess;
    this.#channelName = attach?.channel ?? `binary-logger:${randomUUID()}`;
    this.#state = new SharedState(attachState);
    if (settings.multiProcess) {
      this.#remote = openProcessPath(this, settings);
    } else if (this.#owner) {
      try {
        fsOps.mkdirSync(splitName(this.path).dir, { recursive: true });
      } catch (err) {
        // A parent that is a file: let the open below fail naming the log.
        if (!isErrno(err, 'EEXIST') && !isErrno(err, 'ENOTDIR')) throw err;
      }
      // Fail on a path we cannot write (EISDIR, EACCES, ENOTDIR) with the
      // OS error naming the log, before anything is created beside it.
      fsOps.closeSync(fsOps.openSync(this.path, APPEND_FLAGS, FILE_MODE));
      this.#lockFile = takeLock(this.path, fsOps, (options as BinaryLoggerOptions).lockNote);
      try {
        this.#repair();
      } catch (err) {
        releaseLock(this.#lockFile, fsOps);
        this.#closeFd();
        throw err;
      }
      this.#channel = new BroadcastChannel(this.#channelName);
      this.#channel.unref();
      this.#channel.onmessage = (event) => {
        const message = (event as MessageEvent).data as { rotate?: string };
        if (typeof message?.rotate === 'string') this.#rotated(message.rotate);
      };
      this.#housekeepAtOpen();
    } else {
      this.#channel = new BroadcastChannel(this.#channelName);
      this.#channel.unref();
    }
    if (this.#buffered) registerForExit(this);
    this.#emitPending();
  }

  /**
   * A handle to pass to a worker thread (in workerData or postMessage);
   * `BinaryLogger.attach(handle)` there gives a logger on the same log.
   */
  share(): LoggerHandle {
    this.#assertOpen();
    this.#state.shared = true;
    return {
      tag: HANDLE_TAG,
      state: this.#state.buffer,
      channel: this.#channelName,
      path: this.path,
      options: {
        maxFileSize: this.maxFileSize,
        durability: this.durability,
        bufferSize: this.#buffered ? this.#staging.length : DEFAULT_BUFFER_SIZE,
        flushInterval: this.#flushInterval,
        maxFiles: this.#settings.maxFiles,
        maxTotalSize: this.#settings.maxTotalSize,
        maxAge: this.#settings.maxAge,
        compress: this.#settings.compress,
        multiProcess: this.#settings.multiProcess,
      },
    };
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
  static attach(handle: LoggerHandle, internal?: { fs?: FsOps }): BinaryLogger {
    if (!isHandle(handle)) throw invalidArgType('handle', 'a handle returned by BinaryLogger#share()', handle);
    const options = { ...handle.options, fs: internal?.fs, [ATTACH]: { state: handle.state, channel: handle.channel } };
    return new BinaryLogger(handle.path, options as unknown as BinaryLoggerOptions);
  }

  /** True once close() was called on this logger, or the owner closed the log. */
  get closed(): boolean {
    return this.#closed || Atomics.load(this.#state.i32, CLOSED) === 1;
  }

  /** Bytes framed by this logger and not yet handed to the OS (buffered modes). */
  get pendingBytes(): number {
    return this.#buffered ? this.#used : 0;
  }

  /**
   * Append one record. In `'sync'` and `'fsync'` durability it is in the
   * file when write() returns; in the buffered modes, once flush() returns.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a payload that is neither
   *   a string nor a Uint8Array; TypeError `ERR_INVALID_ARG_VALUE` for a
   *   string with a lone surrogate; RangeError `ERR_OUT_OF_RANGE` for a
   *   payload over 4,294,967,295 bytes; Error `ERR_LOGGER_CLOSED` after
   *   close(); the OS error (ENOSPC, ...) if the file cannot be written, in
   *   which case no byte of the record is left in the file.
   */
  write(payload: string | Uint8Array): void {
    // The owner may have closed the log from another thread: a buffered
    // write must not be taken into a buffer that can never be flushed.
    if (this.#closed || Atomics.load(this.#state.i32, CLOSED) === 1) {
      if (!this.#closed) this.close();
      throw loggerClosed(this.path);
    }
    checkPayload(payload);
    const staging = this.#staging;
    let at = this.#used + HEADER_BYTES;
    let n: number;
    if (typeof payload === 'string') {
      if (payload.length * 3 > staging.length - at) {
        const bytes = Buffer.byteLength(payload);
        if (bytes > staging.length - at) {
          if (this.#used > 0) this.#commitStaging();
          if (bytes > staging.length - HEADER_BYTES) return this.#writeLarge(Buffer.from(payload));
          at = HEADER_BYTES;
        }
      }
      n = utf8Write(staging, payload, at);
    } else {
      n = payload.byteLength;
      if (n > staging.length - at) {
        if (n > MAX_PAYLOAD_BYTES) throw outOfRange('payload.byteLength', `<= ${MAX_PAYLOAD_BYTES}`, n);
        if (this.#used > 0) this.#commitStaging();
        if (n > staging.length - HEADER_BYTES) return this.#writeLarge(payload);
        at = HEADER_BYTES;
      }
      staging.set(payload, at);
    }
    writeHeader(staging, at - HEADER_BYTES, n);
    const wasEmpty = this.#used === 0;
    this.#used = at + n;
    if (!this.#buffered) return this.#commitStaging();
    if (wasEmpty && this.#flushInterval > 0) this.#armTimer();
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
    if (this.#used > 0) this.#commitStaging();
    this.#remote?.flush();
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
      if (this.#used > 0 && Atomics.load(this.#state.i32, CLOSED) === 0) this.#commitStaging();
      this.#remote?.flush();
    } catch (err) {
      failure = err;
    }
    this.#closed = true;
    this.#used = 0;
    this.#clearTimer();
    if (this.#buffered) unregisterForExit(this);
    if (this.#owner) {
      const st = this.#state;
      this.#lock(true);
      try {
        Atomics.store(st.i32, CLOSED, 1);
      } finally {
        st.release();
      }
    }
    this.#closeFd();
    if (this.#lockFile) releaseLock(this.#lockFile, this.#fs);
    this.#remote?.close();
    this.#channel?.close();
    this.#channel = undefined;
    this.#emitPending();
    if (failure !== undefined) throw failure;
  }

  /** Close at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Every record of the log at `filePath` (default: this logger's), oldest
   * first: backups in numeric order of seq, then the current file. Flushes
   * this logger first, so it sees its own writes.
   *
   * @throws CorruptLogError `ERR_LOG_CORRUPT` (after yielding the records
   *   before it) where a backup holds a partial record.
   */
  read(filePath?: string | URL): IterableIterator<string>;
  /** As readLog(), with its options (raw bytes, positions, a start position). */
  read(filePath: string | URL | undefined, options: ReadLogOptions): IterableIterator<string | Buffer | LogEntry<string | Buffer>>;
  read(filePath?: string | URL, options?: ReadLogOptions): IterableIterator<string | Buffer | LogEntry<string | Buffer>> {
    const path = filePath === undefined ? this.path : toPath(filePath);
    if (path === this.path && !this.closed && (this.#used > 0 || this.#remote)) this.flush();
    return readLog(path, options);
  }

  /** @internal Used by the exit hooks: flush, never throw. */
  flushOnExit(): void {
    try {
      if (!this.closed && this.#used > 0) this.#commitStaging();
      if (!this.closed) this.#remote?.flush();
    } catch {
      // The process is ending; there is nobody left to tell.
    }
  }

  // ---------------------------------------------------------------- commit

  #assertOpen(): void {
    if (this.closed) throw loggerClosed(this.path);
  }

  /**
   * Take the log's lock, repairing first if the last holder died. Throws
   * ERR_LOGGER_CLOSED (lock released) if the owner closed the log.
   * Callers release with `this.#state.release()` in a finally.
   */
  #lock(evenIfClosed = false): void {
    const st = this.#state;
    const orphaned = st.acquire();
    try {
      if (Atomics.load(st.i32, CLOSED) === 1) {
        if (evenIfClosed) return;
        this.#closed = true;
        this.#closeFd();
        throw loggerClosed(this.path);
      }
      if (orphaned) this.#repair();
      else if (this.#gen !== st.i32[GENERATION]) this.#reopen();
      if (!evenIfClosed && Date.now() >= st.f64[CHECK_AT]!) this.#checkCurrentFile();
    } catch (err) {
      st.release();
      throw err;
    }
  }

  /**
   * @internal The owner side of a multi-process log (multiprocess/agent.ts):
   * append whole framed records that a client process sent, under the lock,
   * with the rollover rule. On failure nothing of the failed record is left
   * in the file; the error carries `written`, the bytes of `records` written.
   */
  commitFramed(records: Uint8Array): void {
    this.#assertOpen();
    this.#committed = 0;
    try {
      this.#lock();
      try {
        this.#commitRecords(records, records.byteLength);
      } finally {
        this.#state.release();
      }
    } catch (err) {
      if (typeof err === 'object' && err !== null) Object.assign(err, { written: this.#committed });
      throw err;
    } finally {
      this.#emitPending();
    }
  }

  /** Write the staging buffer's records; on failure keep the unwritten ones staged. */
  #commitStaging(): void {
    const end = this.#used;
    if (this.#remote) {
      // The owner keeps nothing of a refused batch: a buffered client's
      // error names the records lost instead of retrying them (see
      // docs/ARCHITECTURE-multiprocess.md, delivery).
      this.#used = 0;
      this.#clearTimer();
      this.#remote.commit(this.#staging, end, !this.#buffered);
      return;
    }
    this.#committed = 0;
    try {
      this.#lock();
      try {
        this.#commitRecords(this.#staging, end);
      } finally {
        this.#state.release();
      }
    } catch (err) {
      this.#keepUnwritten(this.#committed, end);
      this.#emitPending();
      if (!this.#buffered || (isErrno(err, ERR_LOGGER_CLOSED) && this.closed)) this.#used = 0;
      throw err;
    }
    this.#used = 0;
    this.#clearTimer();
    this.#emitPending();
  }

  #keepUnwritten(done: number, end: number): void {
    if (done > 0) this.#staging.copyWithin(0, done, end);
    this.#used = end - done;
  }

  /**
   * Under the lock: append the records in `buf[0, end)`, splitting at each
   * record that makes the current file reach maxFileSize and rolling over
   * there. Returns the bytes written, always a record boundary; if a write
   * fails, cuts the partial record off and throws with `done` set to the
   * bytes written before it.
   */
  #commitRecords(buf: Uint8Array, end: number): number {
    const st = this.#state;
    let pos = 0;
    while (pos < end) {
      this.#committed = pos;
      const base = st.f64[SIZE]!;
      let stop = end;
      if (!this.#rolloverPaused()) {
        const cut = rolloverPoint(buf, pos, end, base, this.maxFileSize);
        if (cut >= 0) stop = cut;
      }
      const fd = this.#fd;
      try {
        writeAll(this.#fs, fd, buf, pos, stop - pos);
        if (this.#fsync) this.#fs.fdatasyncSync(fd);
      } catch (err) {
        this.#cutTo(fd, base, err);
        throw withPath(err, this.path);
      }
      st.f64[SIZE] = base + (stop - pos);
      pos = stop;
      if (st.f64[SIZE]! >= this.maxFileSize) this.#rollover();
    }
    return pos;
  }

  /** Write one record too large for the staging buffer. */
  #writeLarge(payload: Uint8Array): void {
    if (payload.byteLength > MAX_PAYLOAD_BYTES) {
      throw outOfRange('payload.byteLength', `<= ${MAX_PAYLOAD_BYTES}`, payload.byteLength);
    }
    if (this.#remote) {
      if (payload.byteLength > MAX_CLIENT_PAYLOAD_BYTES) {
        throw outOfRange('payload.byteLength', `<= ${MAX_CLIENT_PAYLOAD_BYTES} in a multi-process log`, payload.byteLength);
      }
      const framed = Buffer.allocUnsafe(HEADER_BYTES + payload.byteLength);
      writeHeader(framed, 0, payload.byteLength);
      framed.set(payload, HEADER_BYTES);
      return this.#remote.commit(framed, framed.length, !this.#buffered);
    }
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    writeHeader(header, 0, payload.byteLength);
    this.#lock();
    try {
      {
        const st = this.#state;
        const fd = this.#fd;
        const base = st.f64[SIZE]!;
        const total = HEADER_BYTES + payload.byteLength;
        try {
          let done = this.#fs.writevSync(fd, [header, payload]);
          if (done < HEADER_BYTES) {
            writeAll(this.#fs, fd, header, done, HEADER_BYTES - done);
            done = HEADER_BYTES;
          }
          writeAll(this.#fs, fd, payload, done - HEADER_BYTES, total - done);
          if (this.#fsync) this.#fs.fdatasyncSync(fd);
        } catch (err) {
          this.#cutTo(fd, base, err);
          throw withPath(err, this.path);
        }
        st.f64[SIZE] = base + total;
        if (st.f64[SIZE]! >= this.maxFileSize) this.#rollover();
      }
    } finally {
      this.#state.release();
      this.#emitPending();
    }
  }

  /**
   * A write failed part-way: cut the file back to its last whole record so
   * no partial record is left behind. If even that fails, the log cannot
   * take more records safely: close it for every thread.
   */
  #cutTo(fd: number, size: number, cause: unknown): void {
    try {
      this.#fs.ftruncateSync(fd, size);
    } catch {
      Atomics.store(this.#state.i32, CLOSED, 1);
      this.#closeFd();
      this.#queue('error', withPath(cause, this.path));
    }
  }

  // -------------------------------------------------------------- rollover

  /** True while a failed rollover waits for its retry time. */
  #rolloverPaused(): boolean {
    const st = this.#state;
    return st.i32[ROLL_FAILING] === 1 && Date.now() < st.f64[ROLL_RETRY_AT]!;
  }

  /** Under the lock: seal the current file as the next backup. */
  #rollover(): void {
    if (this.#rolloverPaused()) return;
    const st = this.#state;
    const fs = this.#fs;
    const seq = st.f64[SEQ]!;
    const backup = backupPath(this.path, seq);
    const temp = rolloverTempPath(this.path);
    st.i32[PHASE] = PHASE_ROLLING;
    let fresh = -1;
    let sealed = false;
    try {
      fresh = fs.openSync(temp, FRESH_FLAGS, FILE_MODE);
      sealed = this.#seal(backup);
      fs.renameSync(temp, this.path);
    } catch (err) {
      // Undo: the current file stays current, nothing is lost or replaced.
      if (sealed) tryUnlink(fs, backup);
      if (fresh >= 0) {
        tryClose(fs, fresh);
        tryUnlink(fs, temp);
      }
      st.i32[PHASE] = PHASE_IDLE;
      this.#rolloverFailed(backup, err);
      return;
    }
    if (this.#fsync) this.#syncDir();
    this.#useFd(fresh, 0);
    st.f64[SEQ] = seq + 1;
    st.i32[PHASE] = PHASE_IDLE;
    if (st.i32[ROLL_FAILING] === 1) st.i32[ROLL_FAILING] = 0;
    this.#queue('rotate', backup);
    if (hasLimits(this.#settings)) {
      try {
        applyRetention(this.path, this.#settings, fs);
      } catch (err) {
        this.#queue('error', err);
      }
    }
  }

  /**
   * Give the current file its backup name without ever replacing a file:
   * link(2) fails with EEXIST where rename(2) would overwrite. Returns true
   * if the current file is now also the backup (a hard link to undo on
   * failure); on file systems without hard links, renames it instead.
   */
  #seal(backup: string): boolean {
    try {
      this.#fs.linkSync(this.path, backup);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    }
    if (this.#fs.statSync(backup)) {
      throw Object.assign(new Error(`EEXIST: file already exists, rename '${this.path}' -> '${backup}'`), {
        code: 'EEXIST',
        syscall: 'rename',
        path: this.path,
        dest: backup,
      });
    }
    this.#fs.renameSync(this.path, backup);
    return false;
  }

  /**
   * Under the lock: make `fd` this thread's descriptor of a current file
   * that is new to every thread (`size` bytes), and bump the generation so
   * the others reopen it.
   */
  #useFd(fd: number, size: number): void {
    const st = this.#state;
    this.#closeFd();
    this.#fd = fd;
    st.f64[SIZE] = size;
    this.#gen = st.i32[GENERATION] = (st.i32[GENERATION]! + 1) | 0;
  }

  /** Under the lock: reopen the current file that another thread made. */
  #reopen(): void {
    this.#closeFd();
    this.#fd = this.#fs.openSync(this.path, APPEND_FLAGS, FILE_MODE);
    this.#gen = this.#state.i32[GENERATION]!;
  }

  #closeFd(): void {
    if (this.#fd >= 0) tryClose(this.#fs, this.#fd);
    this.#fd = -1;
    this.#gen = -1;
  }

  #rolloverFailed(backup: string, cause: unknown): void {
    const st = this.#state;
    st.f64[ROLL_RETRY_AT] = Date.now() + ROLLOVER_RETRY_MS;
    if (st.i32[ROLL_FAILING] === 1) return; // reported already: once, not per record
    st.i32[ROLL_FAILING] = 1;
    this.#queue('error', rolloverFailed(this.path, backup, cause));
  }

  #syncDir(): void {
    const dir = splitName(this.path).dir;
    let fd = -1;
    try {
      fd = this.#fs.openSync(dir, DIR_FLAGS);
      this.#fs.fsyncSync(fd);
    } catch (err) {
      // Some file systems refuse fsync on a directory; the rename is done.
      if (!isErrno(err, 'EINVAL') && !isErrno(err, 'EISDIR')) this.#queue('error', withPath(err, dir));
    } finally {
      if (fd >= 0) tryClose(this.#fs, fd);
    }
  }

  // ---------------------------------------------------------------- repair

  /**
   * Bring the shared state and the files into agreement, from the files
   * themselves. Runs when the owner opens the log, and when a thread takes
   * the lock over from a holder that died. Finishes or undoes a rollover a
   * crash interrupted, cuts a torn tail off the current file, and rolls
   * over a current file already at maxFileSize.
   */
  #repair(): void {
    const st = this.#state;
    const fs = this.#fs;
    const path = this.path;
    const temp = rolloverTempPath(path);

    const interrupted = st.i32[PHASE] === PHASE_ROLLING || fs.statSync(temp) !== undefined;
    tryUnlink(fs, temp);
    st.i32[PHASE] = PHASE_IDLE;

    const backups = listBackups(path);
    const last = backups[backups.length - 1];
    st.f64[SEQ] = Math.max(st.f64[SEQ]!, nextSeq(backups));
    const current = fs.statSync(path);
    // Sealed by link but not replaced: the backup holds the records.
    if (current && last && !last.gzip) {
      const sealed = fs.statSync(last.path);
      if (sealed && sealed.ino === current.ino && sealed.dev === current.dev) fs.unlinkSync(path);
    }
    if (interrupted) {
      process.emitWarning(`Finished an interrupted rollover of "${path}"`, { code: WARN_ROLLOVER_RECOVERED });
    }

    // Every thread reopens the current file after a repair.
    const fd = fs.openSync(path, APPEND_FLAGS, FILE_MODE);
    const size = fs.fstatSync(fd).size;
    const whole = wholeRecordsEnd(fs, fd, size);
    if (whole < size) {
      // Keep a copy before cutting: a corrupt length looks like a torn tail,
      // and no byte is deleted without a copy (binlog repair does the same).
      const copy = this.#setAside(fd, whole, size);
      fs.ftruncateSync(fd, whole);
      process.emitWarning(`Cut a torn tail of ${size - whole} bytes off "${path}" at byte ${whole}; the bytes are kept in "${copy}"`, {
        code: WARN_TORN_TAIL,
        detail: 'A process died while writing the last record (which was never acknowledged), or a length is corrupt.',
      });
    }
    this.#useFd(fd, whole);
    st.f64[CHECK_AT] = Date.now() + CHECK_INTERVAL_MS;
    if (whole > 0 && whole >= this.maxFileSize) this.#rollover();
  }

  /**
   * Under the lock: is the file we append to still the one at the path,
   * with the size we think? Another program may have deleted, truncated or
   * replaced it (logrotate's copytruncate or create). If not, repair()
   * takes the log from what is on disk now.
   */
  #checkCurrentFile(): void {
    const st = this.#state;
    st.f64[CHECK_AT] = Date.now() + CHECK_INTERVAL_MS;
    const onDisk = this.#fs.statSync(this.path);
    const mine = this.#fs.fstatSync(this.#fd);
    let change: string | undefined;
    if (!onDisk) change = 'was deleted; recreating it';
    else if (onDisk.ino !== mine.ino || onDisk.dev !== mine.dev) change = 'was replaced by another file; appending to the new one';
    else if (mine.size < st.f64[SIZE]!) change = `was truncated from ${st.f64[SIZE]} to ${mine.size} bytes`;
    else if (mine.size > st.f64[SIZE]!) change = `grew by ${mine.size - st.f64[SIZE]!} bytes written by another program`;
    if (change === undefined) return;
    process.emitWarning(`The current file "${this.path}" ${change}`, { code: WARN_CURRENT_FILE_CHANGED });
    this.#repair();
  }

  /** Copy bytes [from, to) of the current file to a new `<path>.corrupt-<from>[.n]`. */
  #setAside(fd: number, from: number, to: number): string {
    const fs = this.#fs;
    let name = `${this.path}.corrupt-${from}`;
    let out = -1;
    for (let n = 1; out < 0; n++) {
      try {
        out = fs.openSync(name, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, FILE_MODE);
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
        name = `${this.path}.corrupt-${from}.${n}`;
      }
    }
    try {
      const chunk = Buffer.allocUnsafe(Math.min(to - from, SCAN_CHUNK_BYTES));
      for (let pos = from; pos < to; ) {
        const got = fs.readSync(fd, chunk, 0, Math.min(chunk.length, to - pos), pos);
        if (got === 0) break;
        writeAll(fs, out, chunk, 0, got);
        pos += got;
      }
      fs.fsyncSync(out);
    } finally {
      tryClose(fs, out);
    }
    return name;
  }

  // ---------------------------------------------------------------- events

  #queue(event: string, value: unknown): void {
    this.#pending.push([event, value]);
  }

  /** Emit queued events outside the lock. An 'error' with no listener is a warning. */
  #emitPending(): void {
    while (this.#pending.length > 0) {
      const [event, value] = this.#pending.shift()!;
      if (event === 'rotate') {
        if (this.#owner) this.#rotated(value as string);
        else {
          this.emit('rotate', value);
          this.#channel?.postMessage({ rotate: value });
        }
      } else if (event === 'error') this.#reportError(value);
      else this.emit(event, value);
    }
  }

  /** A background failure: an 'error' event if anyone listens, else a warning. */
  #reportError(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else {
      const e = err as Error & { code?: string };
      process.emitWarning(e.message ?? String(err), { code: e.code ?? 'BINLOG_ERROR' });
    }
  }

  /** In the owner: a backup was sealed (by any thread). */
  #rotated(backup: string): void {
    this.emit('rotate', backup);
    if (this.#settings.compress) this.#compress(backup);
  }

  /** In the owner: compress a sealed backup after those queued before it. */
  #compress(backup: string): void {
    this.#compressing = this.#compressing.then(async () => {
      try {
        const gz = await compressBackup(backup);
        if (gz) this.emit('compress', gz);
      } catch (err) {
        this.#reportError(err);
      }
    });
  }

  /** In the owner, at open: retention, and compression a crash left undone. */
  #housekeepAtOpen(): void {
    if (hasLimits(this.#settings)) {
      try {
        applyRetention(this.path, this.#settings, this.#fs);
      } catch (err) {
        this.#queue('error', err);
      }
    }
    if (this.#settings.compress) {
      removeCompressionLeftovers(this.path);
      for (const backup of plainBackups(this.path)) this.#compress(backup.path);
    }
  }

  /**
   * Resolves once every backup sealed so far is compressed (`compress`
   * option); at once otherwise.
   */
  whenCompressed(): Promise<void> {
    return this.#compressing;
  }

  // ---------------------------------------------------------------- timers

  #armTimer(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(this.#onTimer, this.#flushInterval);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #flushInBackground(): void {
    this.#timer = undefined;
    if (this.#closed || this.#used === 0) return;
    try {
      this.#commitStaging();
    } catch (err) {
      if (this.closed) return;
      this.#reportError(err);
      if (this.#used > 0) this.#armTimer();
    }
  }
}

/**
 * Encode `s` into `buf` at `offset`; the caller made sure it fits. Node's
 * Buffer#utf8Write skips the argument juggling of Buffer#write (about 30 ns
 * a record on the hot path); fall back to write() where it is missing.
 */
const utf8Write: (buf: Buffer, s: string, offset: number) => number =
  typeof (Buffer.prototype as { utf8Write?: unknown }).utf8Write === 'function'
    ? (buf, s, offset) => (buf as unknown as { utf8Write(s: string, offset: number): number }).utf8Write(s, offset)
    : (buf, s, offset) => buf.write(s, offset);

/** Start the agent of a multi-process logger; its events reach `logger`. */
function openProcessPath(logger: BinaryLogger, settings: Settings): ProcessCommitPath {
  const { multiProcess: _, ...agentSettings } = settings;
  return new ProcessCommitPath(logger.path, agentSettings, {
    event: (name, value) => {
      if (name === 'error' && logger.listenerCount('error') === 0) {
        const e = value as Error & { code?: string };
        process.emitWarning(e.message, { code: e.code ?? 'BINLOG_ERROR' });
      } else if (name !== 'refused') logger.emit(name, value);
    },
  });
}

/** Marks the options of an attached logger; not part of the public API. */
const ATTACH = Symbol('binary-logger.attach');

/**
 * End offset of the last whole record in the file open at `fd`, reading it
 * a chunk at a time. A record longer than the chunk is skipped by its
 * length (checked against the file size) rather than read into memory.
 */
function wholeRecordsEnd(fs: FsOps, fd: number, size: number): number {
  const chunk = Buffer.allocUnsafe(Math.min(Math.max(size, HEADER_BYTES), SCAN_CHUNK_BYTES));
  let pos = 0; // start of the next record in the file
  while (size - pos >= HEADER_BYTES) {
    const got = fs.readSync(fd, chunk, 0, Math.min(chunk.length, size - pos), pos);
    if (got < HEADER_BYTES) break; // the file shrank under us
    const whole = lastWholeRecordEnd(chunk, 0, got);
    if (whole > 0) {
      pos += whole;
      continue;
    }
    const next = pos + HEADER_BYTES + readHeader(chunk, 0);
    if (next > size) break; // a torn tail
    pos = next;
  }
  return pos;
}

function tryClose(fs: FsOps, fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // EBADF: already closed
  }
}

function tryUnlink(fs: FsOps, path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // ENOENT: already gone
  }
}
