/**
 * One pass over every file of a log, for the tools that check or summarize
 * it rather than read it: verify() and logStats() are two consumers of
 * this scan, each keeping only its own fields.
 *
 * Each file is stepped through with the record cursor, which allocates one
 * window of at most READ_CHUNK_BYTES and nothing per record: a payload is
 * skipped by its length unless a consumer asks for its bytes. Every length
 * is checked against the bytes left in the file before anything is read
 * for it, so any bytes at all give a scan bounded by the files' sizes.
 */
import { HEADER_BYTES } from './format.js';
import { nodeFs, type FsOps } from './fsops.js';
import type { RecordCursor } from './read/cursor.js';
import { READ_CHUNK_BYTES, type Stop } from './read/records.js';
import { openLogFile, requireLog, statOrUndefined, takeSnapshot, type LogFile, type LogSnapshot } from './read/snapshot.js';

/** What the scan found in one file. */
export interface FileScan {
  file: LogFile;
  /** Bytes in the file on disk (compressed, for a compressed backup). */
  diskSize: number;
  /** Whole records readable from it. */
  records: number;
  /** Bytes of those whole records (in decompressed bytes, for a compressed backup). */
  wholeBytes: number;
  /** Where and why its records ended; undefined when it could not be read. */
  stop?: Stop;
  /** Why it could not be read, in words; undefined when it could. */
  unreadable?: string;
}

/** A consumer of the scan; every hook is optional and called in reading order. */
export interface ScanConsumer {
  /** Before the records of `file`. */
  begin?(file: LogFile): void;
  /** For each whole record; `cursor` is at it, its payload not loaded. */
  record?(cursor: RecordCursor, file: LogFile): void;
  /** After the file (including one that could not be read). */
  end?(scan: FileScan): void;
}

/** The scan of a whole log. */
export interface LogScan {
  snapshot: LogSnapshot;
  /** Files scanned, in reading order (files that vanished meanwhile are left out). */
  files: FileScan[];
}

/**
 * Scan every file of the log at `path` once, feeding `consumers`.
 * `onProgress` is called with the bytes done and the bytes of all files
 * about once per READ_CHUNK_BYTES, and once at the end.
 *
 * @throws Error `ENOENT` when there is neither a current file nor a backup;
 *   the OS error if the directory cannot be listed. A file that cannot be
 *   read is `unreadable` in its FileScan, not an exception.
 */
export function scanLog(
  path: string,
  consumers: readonly ScanConsumer[],
  onProgress?: (done: number, total: number) => void,
  fs: FsOps = nodeFs,
): LogScan {
  // One listing is the snapshot scanned: a backup that disappears while we
  // read (retention) is skipped, as readLog() skips it.
  const snapshot = takeSnapshot(path, fs);
  requireLog(path, snapshot);
  let total = 0;
  for (const f of snapshot.files) total += statOrUndefined(fs, f.path)?.size ?? 0;
  const progress = new Progress(total, onProgress);
  const files: FileScan[] = [];
  for (const file of snapshot.files) {
    const scanned = scanFile(file, consumers, progress, fs);
    if (scanned) files.push(scanned);
  }
  progress.end();
  return { snapshot, files };
}

function scanFile(file: LogFile, consumers: readonly ScanConsumer[], progress: Progress, fs: FsOps): FileScan | undefined {
  const opened = openLogFile(file, fs);
  if ('missing' in opened) return undefined;
  for (const c of consumers) c.begin?.(file);
  const scan: FileScan = { file, diskSize: opened.diskSize, records: 0, wholeBytes: 0 };
  if ('error' in opened) {
    scan.unreadable = opened.why;
    progress.add(opened.diskSize);
  } else {
    const { cursor } = opened;
    try {
      // Progress counts bytes on disk; a decompressed backup counts as its compressed size.
      const scale = cursor.size > 0 ? opened.diskSize / cursor.size : 0;
      // Only consumers that look at records are called per record (the hot loop).
      const onRecord = consumers.filter((c) => c.record !== undefined);
      let records = 0;
      if (onRecord.length === 0 && !progress.callback) {
        while (cursor.next()) records++;
      } else {
        while (cursor.next()) {
          for (const c of onRecord) c.record!(cursor, file);
          records++;
          progress.add((HEADER_BYTES + cursor.length) * scale);
        }
      }
      scan.records = records;
      scan.stop = cursor.stop!;
      scan.wholeBytes = scan.stop.offset;
      progress.add((cursor.size - scan.stop.offset) * scale);
    } finally {
      cursor.close();
    }
  }
  for (const c of consumers) c.end?.(scan);
  return scan;
}

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
