/**
 * The files of a log in reading order, each opened as a cursor: what
 * readLog, follow and openCursor step through. Backups in numeric order of
 * seq (10 after 9), then the current file.
 */
import { invalidArgType, invalidArgValue } from '../errors.js';
import { READ_FLAGS, nodeFs, type FsOps } from '../fsops.js';
import { GZIP_SUFFIX, backupPath, listBackups, nextSeq, type Backup } from '../naming.js';
import { RecordCursor, type CursorOptions } from './cursor.js';
import { stopError } from './policy.js';
import { isLinkedToLast, openOrThrow, type LogFile } from './snapshot.js';

/**
 * Where a record starts: the backup it is in (for a record of the current
 * file, the seq that file will have once it is rolled over: one above the
 * highest backup) and its byte offset there. A position stays valid when
 * the current file is rolled over, so a consumer can checkpoint one and
 * resume from it after a restart.
 */
export interface Position {
  seq: number;
  offset: number;
}

/** A file of the log, open as a cursor. */
export interface OpenFile {
  file: LogFile;
  cursor: RecordCursor;
}

/**
 * Walk the files of a log in order from `from`, yielding each open as a
 * cursor; the consumer steps the cursor to its end before asking for the
 * next file, and this applies the policy (policy.ts) to where it stopped:
 * CorruptLogError after the records before the bad bytes.
 *
 * Backups that appear while reading (a rollover) are read before the
 * current file. A backup compressed since the listing is read from its
 * `.gz`; one deleted since (retention) is skipped. If a rollover seals the current file between the listing
 * and the open, the walk starts over from the listing, so no record is
 * read twice or missed. A current file that is still the newest backup's
 * file (an interrupted rollover) was read as that backup.
 */
export function* logFiles(path: string, freshBuffers: boolean, from?: Position, fs: FsOps = nodeFs): Generator<OpenFile> {
  let wanted = from?.seq ?? 0; // the lowest seq not yet read
  for (;;) {
    const backups = listBackups(path, fs);
    const pending = backups.filter((b) => b.seq >= wanted);
    if (pending.length > 0) {
      for (const backup of pending) {
        wanted = backup.seq + 1;
        const start = from && backup.seq === from.seq ? from.offset : 0;
        const opened = openBackup(path, backup, fs, { from: start, freshBuffers });
        if (opened) yield* walkFile(opened.file, opened.cursor);
      }
      continue;
    }
    const seq = nextSeq(backups);
    if (from && from.seq > seq) {
      throw invalidArgValue('from', `is not a position in this log: seq ${from.seq} is beyond the current file's ${seq}`);
    }
    let fd: number;
    try {
      fd = fs.openSync(path, READ_FLAGS);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    // Rolled over since the listing (and perhaps compressed already): list again.
    if (fs.statSync(backupPath(path, seq)) !== undefined || fs.statSync(backupPath(path, seq) + GZIP_SUFFIX) !== undefined) {
      fs.closeSync(fd);
      continue;
    }
    let size: number;
    try {
      const stat = fs.fstatSync(fd);
      if (isLinkedToLast(fs, backups, stat)) {
        // A rollover between its link and its rename (or a crash there): its
        // records were read as that backup; the new current file is empty.
        fs.closeSync(fd);
        return;
      }
      size = stat.size;
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    const file: LogFile = { path, seq, gzip: false, isCurrent: true };
    const cursor = new RecordCursor({ fs, fd, size }, { from: from && from.seq === seq ? from.offset : 0, freshBuffers });
    yield* walkFile(file, cursor);
    return;
  }
}

/**
 * Open a backup the walk listed, under whichever name it has now. The
 * listing can be old by the time a backup is opened (a consumer such as the
 * shipper awaits between records while the walk is suspended), and
 * compression replaces `events.3.bin` with `events.3.bin.gz` meanwhile: the
 * same records under another name, which must be read, not skipped. Only a
 * seq that is no longer listed at all was deleted (retention), and is
 * skipped: undefined.
 */
function openBackup(path: string, listed: Backup, fs: FsOps, options: CursorOptions): { file: LogFile; cursor: RecordCursor } | undefined {
  let backup: Backup | undefined = listed;
  for (;;) {
    const file: LogFile = { path: backup.path, seq: backup.seq, gzip: backup.gzip, isCurrent: false };
    const cursor = openOrThrow(file, fs, options);
    if (cursor) return { file, cursor };
    const tried = backup.path;
    backup = listBackups(path, fs).find((b) => b.seq === listed.seq);
    // Gone, or gone again under the same name: deleted.
    if (!backup || backup.path === tried) return undefined;
  }
}

function* walkFile(file: LogFile, cursor: RecordCursor): Generator<OpenFile> {
  try {
    yield { file, cursor };
    const error = cursor.stop && stopError(file.path, file.isCurrent, cursor.stop);
    if (error) throw error;
  } finally {
    cursor.close();
  }
}

/** Validate a Position argument. */
export function checkPosition(value: unknown, name = 'from'): Position | undefined {
  if (value === undefined) return undefined;
  const p = value as Partial<Position>;
  if (typeof value !== 'object' || value === null || !Number.isSafeInteger(p.seq) || !Number.isSafeInteger(p.offset) || p.seq! < 0 || p.offset! < 0) {
    throw invalidArgType(name, 'a position { seq, offset } of non-negative integers', value);
  }
  return { seq: p.seq!, offset: p.offset! };
}
