/**
 * lastRecords(): the last N records of a log, reading only the newest files
 * that hold them (the current file first, then backups downwards), so that
 * `binlog tail` on a log of many backups reads one or two files, not all.
 */
import { nodeFs } from './fsops.js';
import { backupPath } from './naming.js';
import { stopError } from './read/policy.js';
import { openOrThrow, requireLog, takeSnapshot, type LogFile } from './read/snapshot.js';
import type { Position } from './reader.js';
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
 * @throws RangeError `ERR_OUT_OF_RANGE` for a bad count; Error `ENOENT`
 *   (`syscall: 'open'`, `path`) when there is neither a current file nor a
 *   backup; CorruptLogError `ERR_LOG_CORRUPT` (path, offset, reason) where
 *   a file that holds some of the records asked for is corrupt (as readLog()
 *   throws it); the OS error where a file cannot be read.
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
    const snapshot = takeSnapshot(path);
    if (attempt === 0) requireLog(path, snapshot);
    const { files, currentSeq: seq } = snapshot;
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
    if (attempt < ROLLOVER_RETRIES && nodeFs.statSync(backupPath(path, seq)) !== undefined) continue;
    return { records: chunks.reverse().flat(), end };
  }
}

/** The last `n` whole records of one file (fewer if it has fewer), and where its whole records end. */
function lastOfFile(file: LogFile, n: number): { records: Buffer[]; end: number } {
  const cursor = openOrThrow(file);
  if (!cursor) return { records: [], end: 0 }; // removed by retention meanwhile
  try {
    // A ring of the offsets and lengths of the last n records; payloads are read after.
    const offsets: number[] = [];
    let next = 0;
    while (cursor.next()) {
      if (n === 0) continue;
      offsets[next] = cursor.offset;
      next = (next + 1) % n;
    }
    const stop = cursor.stop!;
    const error = stopError(file.path, file.isCurrent, stop);
    if (error) throw error;
    // The last n records are consecutive: step again from the oldest of them.
    const first = offsets.length < n ? offsets[0] : offsets[next];
    const out: Buffer[] = [];
    if (first !== undefined) {
      cursor.seek(first);
      for (let i = 0; i < offsets.length && cursor.next(); i++) {
        const view = cursor.payload();
        if (view) out.push(Buffer.from(view));
      }
    }
    return { records: out, end: stop.offset };
  } finally {
    cursor.close();
  }
}
