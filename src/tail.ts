/**
 * lastRecords(): the last N records of a log, reading only the newest files
 * that hold them (the current file first, then backups downwards), so that
 * `binlog tail` on a log of many backups reads one or two files, not all.
 */
import { statSync } from 'node:fs';
import { CorruptLogError } from './errors.js';
import { backupPath, listBackups, nextSeq } from './naming.js';
import type { Position } from './reader.js';
import { openSource, readPayload, walkRecords } from './scan.js';
import { optionalNonNegativeInteger, toPath } from './validate.js';

/** The last records of a log, and where the log ended when they were read. */
export interface LastRecords {
  /** The payloads, oldest first. */
  records: Buffer[];
  /**
   * Just past the last whole record of the log: the position to follow()
   * from so that nothing after `records` is missed or repeated.
   */
  end: Position;
}

/** Times to start over when a rollover moves the files while we read. */
const ROLLOVER_RETRIES = 5;

/**
 * The last `count` records of the log whose current file is `filePath`,
 * oldest first, as Buffers, with the position the log ends at. Holds at
 * most `count` payloads in memory.
 *
 * A torn tail of the current file is left out, as readLog() leaves it out.
 * A backup that is read and turns out corrupt throws; a corrupt backup
 * older than the records asked for is not read, so not noticed (verify()
 * checks every file).
 *
 * @throws RangeError `ERR_OUT_OF_RANGE` for a bad count; CorruptLogError
 *   `ERR_LOG_CORRUPT` (path, offset) where a backup that holds some of the
 *   records asked for has a partial record; the OS error where a file
 *   cannot be read.
 * @example
 * ```ts
 * const { records, end } = lastRecords('./logs/events.bin', 10);
 * for (const bytes of records) console.log(bytes.toString());
 * for await (const record of follow('./logs/events.bin', { from: end })) console.log(record);
 * ```
 */
export function lastRecords(filePath: string | URL, count: number): LastRecords {
  const path = toPath(filePath);
  const want = optionalNonNegativeInteger(count, 'count') ?? 0;
  for (let attempt = 0; ; attempt++) {
    const backups = listBackups(path);
    const seq = nextSeq(backups);
    const files: LogFile[] = backups.map((b) => ({ ...b, isCurrent: false }));
    const last = backups[backups.length - 1];
    const current = statSync(path, { throwIfNoEntry: false });
    const sealed = last && !last.gzip ? statSync(last.path, { throwIfNoEntry: false }) : undefined;
    // A current file that is still the last backup (an interrupted rollover) is read once, as the backup.
    if (current && !(sealed && sealed.ino === current.ino && sealed.dev === current.dev)) {
      files.push({ path, seq, gzip: false, isCurrent: true });
    }

    const chunks: Buffer[][] = [];
    let need = want;
    let end: Position = { seq, offset: 0 };
    for (let i = files.length - 1; i >= 0; i--) {
      const file = files[i]!;
      // The current file is always walked: where it ends is where the log ends.
      if (need === 0 && !file.isCurrent) break;
      const got = lastOfFile(file, need);
      chunks.push(got.records);
      need -= got.records.length;
      if (file.isCurrent) end = { seq, offset: got.end };
    }
    // A rollover since the listing sealed the file we read as current: start over.
    if (attempt < ROLLOVER_RETRIES && statSync(backupPath(path, seq), { throwIfNoEntry: false }) !== undefined) continue;
    return { records: chunks.reverse().flat(), end };
  }
}

interface LogFile {
  path: string;
  seq: number;
  gzip: boolean;
  isCurrent: boolean;
}

/** The last `n` whole records of one file (fewer if it has fewer), and where its whole records end. */
function lastOfFile(file: LogFile, n: number): { records: Buffer[]; end: number } {
  const opened = openSource(file.path, file.gzip);
  if ('missing' in opened) return { records: [], end: 0 }; // removed by retention meanwhile
  if ('unreadable' in opened) {
    if (opened.corrupt) throw new CorruptLogError(file.path, 0, opened.unreadable);
    throw Object.assign(new Error(`${file.path}: ${opened.unreadable}`), { path: file.path });
  }
  const src = opened.source;
  try {
    // A ring of the offsets and lengths of the last n records; payloads are read after.
    const offsets: number[] = [];
    const lengths: number[] = [];
    let next = 0;
    const walked = walkRecords(src, (offset, length) => {
      if (n === 0) return;
      offsets[next] = offset;
      lengths[next] = length;
      next = (next + 1) % n;
    });
    if (walked.reason !== undefined && !file.isCurrent) throw new CorruptLogError(file.path, walked.end, walked.reason);
    const order = offsets.length < n ? [...offsets.keys()] : [...offsets.keys()].map((k) => (k + next) % n);
    const out: Buffer[] = [];
    for (const k of order) {
      const payload = readPayload(src, offsets[k]!, lengths[k]!);
      if (payload) out.push(payload);
    }
    return { records: out, end: walked.end };
  } finally {
    src.close();
  }
}
