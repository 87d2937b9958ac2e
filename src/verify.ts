/**
 * verify(): check every file of a log and say what is wrong, where.
 *
 * It reads the same files readLog() reads (backups in numeric order of seq,
 * then the current file) with the same length-vs-size rule, but never stops
 * at the first problem and never allocates per record: each file is walked
 * through one window of at most READ_CHUNK_BYTES (scan.ts), and a record's
 * payload is skipped by its length (or streamed through a fatal TextDecoder
 * when `utf8` is asked for), so memory stays flat whatever the records
 * hold. A compressed backup is decompressed whole, as readLog() does.
 * It only reads: nothing on disk changes (repair() is what fixes).
 */
import { basename } from 'node:path';
import { invalidArgType } from './errors.js';
import { nodeFs } from './fsops.js';
import { backupPath, rolloverTempPath } from './naming.js';
import type { RecordCursor } from './read/cursor.js';
import { stopProblem } from './read/policy.js';
import { statOrUndefined, type LogFile } from './read/snapshot.js';
import { scanLog, type FileScan, type LogScan, type ScanConsumer } from './scan.js';
import { optionalBoolean, optionalNonNegativeInteger, toPath } from './validate.js';

/**
 * What can be wrong with a log. Each problem names a file and a byte offset
 * in it.
 *
 * - `'torn-tail'`: the current file ends in a partial record (a length
 *   prefix cut short, or a payload shorter than its length says). `offset`
 *   is where that record starts. Readers stop there quietly: it may be a
 *   write in progress, or the last write of a process that died. Opening a
 *   BinaryLogger cuts it off (warning BINLOG_TORN_TAIL); `binlog repair`
 *   sets it aside.
 * - `'length-past-end'`: a record in a backup runs past the end of the
 *   backup (or the backup ends in less than a length prefix), or a record
 *   in any file declares an impossible length (beyond MAX_PAYLOAD_BYTES)
 *   and runs past its end. `offset` is where that record starts. Readers throw CorruptLogError (ERR_LOG_CORRUPT)
 *   there with the same path and offset; nothing after it in that file can
 *   be read. repair() sets the bytes from `offset` on aside.
 * - `'numbering-gap'`: backups are missing from the middle of the numbering
 *   (say 0, 1 and 4 exist: 2 and 3 are missing). One problem per run of
 *   missing numbers; `path` is the first missing backup's name and
 *   `offset` is 0. Readers read through the gap; missing numbers below the
 *   lowest backup are not a gap (retention deletes the oldest backups).
 * - `'invalid-utf8'` (only with `utf8: true`): a record whose payload is
 *   not well-formed UTF-8, so that reading it as a string gives U+FFFD in
 *   its place. `offset` is where the record starts (its length prefix).
 * - `'stray-temp'`: the empty file a rollover prepares (`.<name>.next`) is
 *   left beside the log: a rollover was interrupted. `offset` is 0. The
 *   next BinaryLogger to open the log removes it.
 * - `'interrupted-rollover'`: the current file is the same file (a hard
 *   link) as the last backup: a rollover was interrupted between sealing
 *   the backup and putting a fresh current file in place. Readers read its
 *   records once, as the backup's; the next BinaryLogger to open the log
 *   finishes the rollover. `path` is the current file, `offset` 0.
 * - `'unreadable'`: a file of the log could not be read: not a regular
 *   file, the OS refused (EACCES, ...; readers throw that OS error), or a
 *   compressed backup that does not decompress (readers throw
 *   ERR_LOG_CORRUPT at offset 0). `offset` is 0.
 */
export type ProblemKind =
  | 'torn-tail'
  | 'length-past-end'
  | 'numbering-gap'
  | 'invalid-utf8'
  | 'stray-temp'
  | 'interrupted-rollover'
  | 'unreadable';

/** One thing wrong with a log: what, in which file, at which byte. */
export interface VerifyProblem {
  kind: ProblemKind;
  /** Absolute path of the file (for a numbering gap, of the first missing backup). */
  path: string;
  /**
   * Byte offset in that file: where the bad record starts, or 0. For a
   * compressed backup, an offset in its decompressed bytes.
   */
  offset: number;
  /** What is wrong, in words, for people. */
  message: string;
}

/** One file of a log, as verify() found it. */
export interface VerifiedFile {
  /** Absolute path. */
  path: string;
  /** Backup number, or -1 for the current file. */
  seq: number;
  /** Bytes in the file (on disk: compressed, for a compressed backup). */
  size: number;
  /** Whole records readable from it. */
  records: number;
  /**
   * Bytes of those whole records: where a reader stops (`size` when the file
   * is sound; for a compressed backup, an offset in its decompressed bytes).
   */
  wholeBytes: number;
  /** Present and true for a gzip-compressed backup (`events.3.bin.gz`). */
  gzip?: boolean;
}

export interface VerifyReport {
  /** True when `problems` is empty. */
  ok: boolean;
  /** Every file of the log in reading order: backups by seq, then the current file. */
  files: VerifiedFile[];
  /**
   * Every problem found: a stray temporary file first, then file by file in
   * reading order (a gap just before the backup after it), an interrupted
   * rollover last.
   */
  problems: VerifyProblem[];
  /** Problems found beyond `maxProblems`, counted but not listed. */
  omittedProblems: number;
}

export interface VerifyOptions {
  /**
   * Also check that every payload is well-formed UTF-8 (for logs of
   * strings), reporting each one that is not as `'invalid-utf8'`.
   * Defaults to false.
   */
  utf8?: boolean;
  /**
   * Called as the bytes of the log are checked, with the bytes done and the
   * bytes of all its files, about once per READ_CHUNK_BYTES and once at the
   * end. Defaults to none.
   */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /**
   * The most problems to list; more are only counted in `omittedProblems`
   * (a log of binary records checked with `utf8` would otherwise list one
   * per record). Defaults to 1000.
   */
  maxProblems?: number;
}

/**
 * Check every file of the log whose current file is `filePath`: the length
 * of every record against the bytes its file has, the backup numbering,
 * leftovers of an interrupted rollover and, with `utf8`, every payload's
 * encoding. Reads only. verify and logStats() are two consumers of one
 * scan (scan.ts).
 *
 * Safe on any bytes: work is bounded by the files' sizes, memory by
 * READ_CHUNK_BYTES, and a length is checked against the bytes left before
 * anything is read for it.
 *
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE`, RangeError
 *   `ERR_OUT_OF_RANGE` for bad arguments; Error `ENOENT` (`syscall: 'open'`,
 *   `path`) when there is neither a current file nor a backup; the OS error
 *   if the directory cannot be listed. A file that cannot be read is a problem (`'unreadable'`),
 *   not an exception.
 * @example
 * ```ts
 * const report = verify('./logs/events.bin', { utf8: true });
 * for (const p of report.problems) console.log(`${p.path}:${p.offset}: ${p.kind}: ${p.message}`);
 * if (!report.ok) process.exitCode = 1;
 * ```
 */
export function verify(filePath: string | URL, options: VerifyOptions = {}): VerifyReport {
  const { path, verifier, onProgress } = prepareVerify(filePath, options);
  return verifier.report(scanLog(path, [verifier], onProgress));
}

/**
 * Check the arguments of verify() and make its scan consumer, so that
 * logStats() can run it beside its own in one scan.
 */
export function prepareVerify(
  filePath: string | URL,
  options: VerifyOptions = {},
): { path: string; verifier: Verifier; onProgress?: (done: number, total: number) => void } {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
  const path = toPath(filePath);
  const { utf8 = false, onProgress, maxProblems = 1000 } = options;
  const checkUtf8 = optionalBoolean(utf8, 'utf8', false);
  const limit = optionalNonNegativeInteger(maxProblems, 'maxProblems') ?? 1000;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw invalidArgType('onProgress', 'of type function', onProgress);
  }
  return onProgress ? { path, verifier: new Verifier(path, checkUtf8, limit), onProgress } : { path, verifier: new Verifier(path, checkUtf8, limit) };
}

/** verify()'s consumer of the scan: the problems, and each file's records and whole bytes. */
export class Verifier implements ScanConsumer {
  readonly problems: VerifyProblem[] = [];
  omitted = 0;
  readonly files: VerifiedFile[] = [];
  #path: string;
  #limit: number;
  #prevSeq = -1;

  constructor(path: string, checkUtf8: boolean, limit: number) {
    this.#path = path;
    this.#limit = limit;
    if (checkUtf8) {
      const checker = new Utf8Checker();
      this.record = (cursor, file) => {
        if (!checker.check(cursor)) {
          this.#add('invalid-utf8', file.path, cursor.offset, `the payload of a record of ${cursor.length} bytes is not well-formed UTF-8`);
        }
      };
    }
    const temp = rolloverTempPath(path);
    const tempStat = statOrUndefined(nodeFs, temp);
    if (tempStat) {
      this.#add(
        'stray-temp',
        temp,
        0,
        `a rollover was interrupted and left its temporary file (${tempStat.size} bytes); the next logger to open the log removes it`,
      );
    }
  }

  begin(file: LogFile): void {
    if (file.isCurrent) return;
    const prev = this.#prevSeq;
    if (prev >= 0 && file.seq > prev + 1) {
      const from = prev + 1;
      const to = file.seq - 1;
      this.#add(
        'numbering-gap',
        backupPath(this.#path, from),
        0,
        from === to
          ? `backup ${from} is missing (between ${prev} and ${file.seq}); readers read through the gap`
          : `backups ${from} to ${to} are missing (between ${prev} and ${file.seq}); readers read through the gap`,
      );
    }
    this.#prevSeq = file.seq;
  }

  /** Present only with the UTF-8 check: the scan calls no hook per record it does not need. */
  readonly record?: (cursor: RecordCursor, file: LogFile) => void;

  end(scan: FileScan): void {
    const { file, diskSize, records, wholeBytes, stop, unreadable } = scan;
    const seq = file.isCurrent ? -1 : file.seq;
    this.files.push(file.gzip ? { path: file.path, seq, size: diskSize, records, wholeBytes, gzip: true } : { path: file.path, seq, size: diskSize, records, wholeBytes });
    if (unreadable !== undefined) this.#add('unreadable', file.path, 0, unreadable);
    const kind = stop && stopProblem(file.isCurrent, stop);
    if (stop && kind === 'torn-tail') this.#add(kind, file.path, stop.offset, `${stop.detail}; readers stop before it`);
    else if (stop && kind) this.#add(kind, file.path, stop.offset, `${stop.detail}; readers throw ERR_LOG_CORRUPT here`);
  }

  /** The report, once the scan is done. */
  report({ snapshot }: LogScan): VerifyReport {
    const last = snapshot.backups[snapshot.backups.length - 1];
    if (snapshot.linkedCurrent && last) {
      this.#add(
        'interrupted-rollover',
        this.#path,
        0,
        `the current file is the same file as the last backup, ${basename(last.path)}: a rollover was interrupted after sealing it; the next logger to open the log finishes the rollover`,
      );
    }
    return { ok: this.problems.length === 0 && this.omitted === 0, files: this.files, problems: this.problems, omittedProblems: this.omitted };
  }

  #add(kind: ProblemKind, at: string, offset: number, message: string): void {
    if (this.problems.length < this.#limit) this.problems.push({ kind, path: at, offset, message });
    else this.omitted++;
  }
}

/** Checks payloads with a fatal TextDecoder, streaming those larger than the cursor's window. */
class Utf8Checker {
  #decoder = new TextDecoder('utf-8', { fatal: true });

  /** True if the payload of the cursor's record is well-formed UTF-8 (or the file shrank before its end). */
  check(cursor: RecordCursor): boolean {
    try {
      for (const piece of cursor.payloadChunks()) this.#decoder.decode(piece, { stream: true });
      this.#decoder.decode(); // a sequence cut off by the end of the payload
      return true;
    } catch {
      this.#decoder = new TextDecoder('utf-8', { fatal: true });
      return false;
    }
  }
}
