/**
 * Every error and warning code binary-logger produces. Codes are the
 * contract; messages may improve. The README has a row per code.
 *
 * OS errors (ENOENT, EACCES, EISDIR, ENOSPC, ...) are thrown as Node made
 * them, keeping `code`, `syscall` and `path`; they are never wrapped except
 * with `{ cause }`.
 */

/** Error codes thrown by this library. */
export const ERR_INVALID_ARG_TYPE = 'ERR_INVALID_ARG_TYPE';
export const ERR_INVALID_ARG_VALUE = 'ERR_INVALID_ARG_VALUE';
export const ERR_OUT_OF_RANGE = 'ERR_OUT_OF_RANGE';
export const ERR_LOGGER_CLOSED = 'ERR_LOGGER_CLOSED';
export const ERR_LOG_CORRUPT = 'ERR_LOG_CORRUPT';
export const ERR_LOGGER_PATH_IN_USE = 'ERR_LOGGER_PATH_IN_USE';
export const ERR_ROLLOVER_FAILED = 'ERR_ROLLOVER_FAILED';
/** A process opened a multi-process log with file-shaping options other than its owner's. */
export const ERR_LOGGER_OPTIONS_MISMATCH = 'ERR_LOGGER_OPTIONS_MISMATCH';
/**
 * Internal, never reaches a caller: a multi-process owner found its lock
 * file replaced by a successor's (fencing) and must not touch the files.
 */
export const ERR_FENCED = 'ERR_BINLOG_FENCED';

/** Warning codes passed to `process.emitWarning`. */
export const WARN_TORN_TAIL = 'BINLOG_TORN_TAIL';
export const WARN_ROLLOVER_RECOVERED = 'BINLOG_ROLLOVER_RECOVERED';
export const WARN_CURRENT_FILE_CHANGED = 'BINLOG_CURRENT_FILE_CHANGED';

/** An Error with a Node-style `code`. */
export interface CodedError extends Error {
  code: string;
}

function withCode<E extends Error>(err: E, code: string): E & CodedError {
  Object.defineProperty(err, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  // Node puts the code in the name shown by inspect: "TypeError [ERR_X]".
  return err as E & CodedError;
}

/** Describe a received value the way Node's own errors do. */
export function describeReceived(value: unknown): string {
  if (value === null) return 'Received null';
  if (value === undefined) return 'Received undefined';
  if (typeof value === 'function') return `Received function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor;
    return ctor?.name ? `Received an instance of ${ctor.name}` : 'Received an object';
  }
  let shown = typeof value === 'string' ? JSON.stringify(value.length > 28 ? `${value.slice(0, 25)}...` : value) : String(value);
  if (typeof value === 'bigint') shown += 'n';
  return `Received type ${typeof value} (${shown})`;
}

export function invalidArgType(name: string, expected: string, value: unknown): TypeError & CodedError {
  return withCode(new TypeError(`The "${name}" argument must be ${expected}. ${describeReceived(value)}`), ERR_INVALID_ARG_TYPE);
}

export function invalidArgValue(name: string, reason: string): TypeError & CodedError {
  return withCode(new TypeError(`The argument "${name}" ${reason}`), ERR_INVALID_ARG_VALUE);
}

export function outOfRange(name: string, range: string, received: unknown): RangeError & CodedError {
  return withCode(
    new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${String(received)}`),
    ERR_OUT_OF_RANGE,
  );
}

export function loggerClosed(path: string): Error & CodedError {
  return withCode(new Error(`The logger for "${path}" is closed`), ERR_LOGGER_CLOSED);
}

/**
 * ERR_LOGGER_PATH_IN_USE: says who holds the log ("process 1234, thread 5678",
 * from lockfile.ts's describeHolder(); empty if unknown) and how to share it.
 */
export function pathInUse(path: string, holder: string): Error & CodedError {
  const who = holder ? ` (${holder})` : '';
  return withCode(
    new Error(
      `Another BinaryLogger has the log "${path}" open${who}; close it first, share it between threads with share()/attach(), or open it with { multiProcess: true } in every process`,
    ),
    ERR_LOGGER_PATH_IN_USE,
  );
}

/** A former owner found its lock file replaced (fencing): it must step down, having written nothing more. */
export function fenced(path: string): Error & CodedError {
  return withCode(new Error(`Lost ownership of "${path}"`), ERR_FENCED);
}

export function rolloverFailed(path: string, backup: string, cause: unknown): Error & CodedError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return withCode(
    new Error(`Rollover of "${path}" to "${backup}" failed; still appending to the current file: ${reason}`, { cause }),
    ERR_ROLLOVER_FAILED,
  );
}

/**
 * Why a file of a log is corrupt, for programs (the message is for people):
 *
 * - `'torn-tail'`: a record runs past the end of a backup, or a backup ends
 *   in part of a length prefix (in the current file that is a write in
 *   progress, never an error).
 * - `'bad-length'`: a record declares a payload longer than
 *   MAX_PAYLOAD_BYTES and runs past the end of its file, in any file: no
 *   writer of this library could have left it (not a log, or corrupt).
 * - `'bad-gzip'`: a compressed backup does not decompress.
 */
export type CorruptReason = 'torn-tail' | 'bad-length' | 'bad-gzip';

/**
 * A log file holds bytes that are not whole records where whole records
 * must be: a length that runs past the end of a backup file, for example.
 * A torn tail of the *current* file is not corruption (it may be a write in
 * progress) and never raises this. `reason` says which rule was broken.
 */
export class CorruptLogError extends Error {
  override readonly name = 'CorruptLogError';
  readonly code = ERR_LOG_CORRUPT;
  /** The file holding the bad bytes. */
  readonly path: string;
  /** Byte offset in that file of the record that could not be read. */
  readonly offset: number;
  /** Which rule the bytes break; see {@link CorruptReason}. */
  readonly reason: CorruptReason;

  /**
   * @param detail what is wrong in words, for the message; defaults to a
   *   sentence for `reason`.
   */
  constructor(path: string, offset: number, reason: CorruptReason, detail?: string) {
    super(`Corrupt log file "${path}" at byte ${offset}: ${detail ?? DEFAULT_DETAIL[reason]}`);
    this.path = path;
    this.offset = offset;
    this.reason = reason;
  }
}

const DEFAULT_DETAIL: Record<CorruptReason, string> = {
  'torn-tail': 'a record runs past the end of a backup',
  'bad-length': 'a record declares a length no writer of this library produces',
  'bad-gzip': 'not a readable gzip file',
};

/** True for an OS error with the given errno code. */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
