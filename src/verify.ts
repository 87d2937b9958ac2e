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
import { statSync, type Stats } from 'node:fs';
import { basename } from 'node:path';
import { invalidArgType } from './errors.js';
import { HEADER_BYTES } from './format.js';
import { backupPath, listBackups, rolloverTempPath, type Backup } from './naming.js';
import { READ_CHUNK_BYTES } from './reader.js';
import { openSource, walkRecords, type Source } from './scan.js';
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
 *   backup (or the backup ends in less than a length prefix). `offset` is
 *   where that record starts. Readers throw CorruptLogError (ERR_LOG_CORRUPT)
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

/** What the internal scan knows of a file, beyond what verify() reports. */
export interface ScannedFile extends VerifiedFile {
  /** Sum of the payload lengths of the whole records. */
  payloadBytes: number;
  /** Smallest and largest payload length, or -1 without records. */
  minPayload: number;
  maxPayload: number;
}

export interface ScanReport extends VerifyReport {
  files: ScannedFile[];
}

/**
 * Check every file of the log whose current file is `filePath`: the length
 * of every record against the bytes its file has, the backup numbering,
 * leftovers of an interrupted rollover and, with `utf8`, every payload's
 * encoding. Reads only; a log that does not exist gives an ok report with
 * no files.
 *
 * Safe on any bytes: work is bounded by the files' sizes, memory by
 * READ_CHUNK_BYTES, and a length is checked against the bytes left before
 * anything is read for it.
 *
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE`, RangeError
 *   `ERR_OUT_OF_RANGE` for bad arguments; the OS error if the directory
 *   cannot be listed. A file that cannot be read is a problem (`'unreadable'`),
 *   not an exception.
 * @example
 * ```ts
 * const report = verify('./logs/events.bin', { utf8: true });
 * for (const p of report.problems) console.log(`${p.path}:${p.offset}: ${p.kind}: ${p.message}`);
 * if (!report.ok) process.exitCode = 1;
 * ```
 */
export function verify(filePath: string | URL, options: VerifyOptions = {}): VerifyReport {
  const { ok, files, problems, omittedProblems } = scanLog(filePath, options);
  return {
    ok,
    files: files.map(({ path, seq, size, records, wholeBytes, gzip }) =>
      gzip ? { path, seq, size, records, wholeBytes, gzip } : { path, seq, size, records, wholeBytes },
    ),
    problems,
    omittedProblems,
  };
}

/** verify(), keeping each file's payload sizes (for stats). */
export function scanLog(filePath: string | URL, options: VerifyOptions = {}): ScanReport {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
  const path = toPath(filePath);
  const { utf8 = false, onProgress, maxProblems = 1000 } = options;
  const checkUtf8 = optionalBoolean(utf8, 'utf8', false);
  const limit = optionalNonNegativeInteger(maxProblems, 'maxProblems') ?? 1000;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw invalidArgType('onProgress', 'of type function', onProgress);
  }

  const problems: VerifyProblem[] = [];
  let omitted = 0;
  const report = (kind: ProblemKind, at: string, offset: number, message: string): void => {
    if (problems.length < limit) problems.push({ kind, path: at, offset, message });
    else omitted++;
  };

  // One listing is the snapshot checked: a backup that disappears while we
  // read (retention) is skipped, as readLog() skips it.
  const backups = listBackups(path);
  const last = backups[backups.length - 1];
  const current = statOrUndefined(path);
  const temp = rolloverTempPath(path);
  const tempStat = statOrUndefined(temp);
  if (tempStat) {
    report(
      'stray-temp',
      temp,
      0,
      `a rollover was interrupted and left its temporary file (${tempStat.size} bytes); the next logger to open the log removes it`,
    );
  }
  let linkedCurrent = false;
  if (current && last && !last.gzip) {
    const sealed = statOrUndefined(last.path);
    linkedCurrent = sealed !== undefined && sealed.ino === current.ino && sealed.dev === current.dev;
  }

  const plan: Array<{ seq: number; path: string; backup?: Backup }> = backups.map((b) => ({ seq: b.seq, path: b.path, backup: b }));
  if (current && !linkedCurrent) plan.push({ seq: -1, path });
  let bytesTotal = 0;
  for (const f of plan) bytesTotal += statOrUndefined(f.path)?.size ?? 0;
  const progress = new Progress(bytesTotal, onProgress);

  const files: ScannedFile[] = [];
  let prevSeq = -1;
  for (const f of plan) {
    if (f.backup) {
      if (prevSeq >= 0 && f.seq > prevSeq + 1) {
        const from = prevSeq + 1;
        const to = f.seq - 1;
        report(
          'numbering-gap',
          backupPath(path, from),
          0,
          from === to
            ? `backup ${from} is missing (between ${prevSeq} and ${f.seq}); readers read through the gap`
            : `backups ${from} to ${to} are missing (between ${prevSeq} and ${f.seq}); readers read through the gap`,
        );
      }
      prevSeq = f.seq;
    }
    const scanned = scanFile(f.path, f.seq, f.backup?.gzip ?? false, checkUtf8, report, progress);
    if (scanned) files.push(scanned);
  }
  if (linkedCurrent && last) {
    report(
      'interrupted-rollover',
      path,
      0,
      `the current file is the same file as the last backup, ${basename(last.path)}: a rollover was interrupted after sealing it; the next logger to open the log finishes the rollover`,
    );
  }
  progress.end();
  return { ok: problems.length === 0 && omitted === 0, files, problems, omittedProblems: omitted };
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined; // ENOTDIR, EACCES on the directory: not there for us
  }
}

type Report = (kind: ProblemKind, path: string, offset: number, message: string) => void;

/** Reports progress about once per READ_CHUNK_BYTES. */
class Progress {
  done = 0;
  #next = READ_CHUNK_BYTES;
  constructor(
    readonly total: number,
    readonly callback: ((done: number, total: number) => void) | undefined,
  ) {}
  add(bytes: number): void {
    this.done += bytes;
    if (this.callback && this.done >= this.#next) {
      this.#next = this.done + READ_CHUNK_BYTES;
      this.callback(Math.min(this.done, this.total), this.total);
    }
  }
  end(): void {
    this.callback?.(this.total, this.total);
  }
}

/** Check one file; undefined if it is gone (removed while we read). */
function scanFile(path: string, seq: number, gzip: boolean, checkUtf8: boolean, report: Report, progress: Progress): ScannedFile | undefined {
  const opened = openSource(path, gzip);
  if ('missing' in opened) return undefined;
  const file: ScannedFile = { path, seq, size: opened.diskSize, records: 0, wholeBytes: 0, payloadBytes: 0, minPayload: -1, maxPayload: -1 };
  if (gzip) file.gzip = true;
  if ('unreadable' in opened) {
    report('unreadable', path, 0, opened.unreadable);
    progress.add(opened.diskSize);
    return file;
  }
  const src = opened.source;
  try {
    const checker = checkUtf8 ? new Utf8Checker(src) : undefined;
    // Progress counts bytes on disk; a decompressed backup counts as its compressed size.
    const scale = src.size > 0 ? opened.diskSize / src.size : 0;
    const walked = walkRecords(src, (offset, length) => {
      if (checker && !checker.check(offset + HEADER_BYTES, length)) {
        report('invalid-utf8', path, offset, `the payload of a record of ${length} bytes is not well-formed UTF-8`);
      }
      file.records++;
      file.payloadBytes += length;
      if (file.minPayload < 0 || length < file.minPayload) file.minPayload = length;
      if (length > file.maxPayload) file.maxPayload = length;
      progress.add((HEADER_BYTES + length) * scale);
    });
    file.wholeBytes = walked.end;
    if (walked.reason !== undefined) {
      if (seq < 0) report('torn-tail', path, walked.end, `${walked.reason}; readers stop before it`);
      else report('length-past-end', path, walked.end, `${walked.reason}; readers throw ERR_LOG_CORRUPT here`);
      progress.add((src.size - walked.end) * scale);
    }
    return file;
  } finally {
    src.close();
  }
}

/** Checks payloads with a fatal TextDecoder, streaming those larger than the window. */
class Utf8Checker {
  #decoder = new TextDecoder('utf-8', { fatal: true });
  constructor(readonly src: Source) {}

  /** True if the bytes [start, start + length) are well-formed UTF-8 (or the file shrank before them). */
  check(start: number, length: number): boolean {
    const src = this.src;
    try {
      if (length <= src.buf.length) {
        const i = src.at(start, length);
        if (i >= 0) this.#decoder.decode(src.buf.subarray(i, i + length));
        return true;
      }
      for (let at = start, end = start + length; at < end; ) {
        const n = Math.min(src.buf.length, end - at);
        const i = src.at(at, n);
        if (i < 0) return true;
        this.#decoder.decode(src.buf.subarray(i, i + n), { stream: true });
        at += n;
      }
      this.#decoder.decode(); // a sequence cut off by the end of the payload
      return true;
    } catch {
      this.#decoder = new TextDecoder('utf-8', { fatal: true });
      return false;
    }
  }
}
