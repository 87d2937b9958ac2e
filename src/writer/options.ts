/**
 * The writer's options in one place: their types, their defaults as
 * constants, and the one function that parses and validates them. The
 * constructor and attach() both go through parseOptions(); share() hands
 * the parsed settings on whole, so a new option cannot be forgotten there.
 */
import { invalidArgType, outOfRange } from '../errors.js';
import type { FsOps } from '../fsops.js';
import type { RetentionLimits } from '../retention.js';
import { oneOf, optionalBoolean, optionalNonNegativeInteger, positiveInteger } from '../validate.js';

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

/** Options of `new BinaryLogger(path, options)`. */
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
}

/** Staging buffer of the buffered modes: 1 MiB. */
export const DEFAULT_BUFFER_SIZE = 1 << 20;
/** Longest wait of a buffered record, in ms. */
export const DEFAULT_FLUSH_INTERVAL_MS = 100;
/** The smallest staging buffer accepted. */
export const MIN_BUFFER_SIZE = 64;
/** setTimeout's largest delay. */
export const MAX_FLUSH_INTERVAL_MS = 0x7fff_ffff;
/** Staging in 'sync' mode only needs to hold one ordinary record. */
export const SYNC_STAGING_BYTES = 64 * 1024;

/**
 * The validated options: plain data (structured clone carries it to a
 * worker in a share() handle), with every default filled in.
 */
export interface Settings extends RetentionLimits {
  readonly maxFileSize: number;
  readonly durability: Durability;
  readonly bufferSize: number;
  readonly flushInterval: number;
  readonly compress: boolean;
  readonly multiProcess: boolean;
}

/** True for the modes that stage records until the buffer fills or a flush. */
export function isBuffered(durability: Durability): boolean {
  return durability === 'buffered' || durability === 'buffered-fsync';
}

/** True for the modes that fdatasync(2) each commit. */
export function isFsync(durability: Durability): boolean {
  return durability === 'fsync' || durability === 'buffered-fsync';
}

/** What a newcomer who forgot maxFileSize is told to write. */
const MAX_FILE_SIZE_REQUIRED =
  'The "maxFileSize" option is required: the size in bytes at which the current file rolls over, e.g. { maxFileSize: 10 * 1024 * 1024 }';

/**
 * Parse the second argument of the constructor (a maxFileSize number or an
 * options object) or the options of a share() handle, validating every
 * field before anything touches disk.
 *
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE`,
 *   RangeError `ERR_OUT_OF_RANGE`, naming the option.
 */
export function parseOptions(arg: unknown): Settings {
  const options: Record<string, unknown> =
    typeof arg !== 'object' || arg === null ? { maxFileSize: arg } : (arg as Record<string, unknown>);
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
  if (maxFileSize === undefined) {
    const err = invalidArgType('maxFileSize', 'of type number', undefined);
    err.message = MAX_FILE_SIZE_REQUIRED;
    throw err;
  }
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
  if (settings.bufferSize < MIN_BUFFER_SIZE) throw outOfRange('bufferSize', `>= ${MIN_BUFFER_SIZE}`, settings.bufferSize);
  if (settings.flushInterval > MAX_FLUSH_INTERVAL_MS) {
    throw outOfRange('flushInterval', `<= ${MAX_FLUSH_INTERVAL_MS}`, settings.flushInterval);
  }
  return settings;
}
