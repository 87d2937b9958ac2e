/**
 * One look at a log's files, for every reader: the backups (listed once, in
 * numeric order of seq), the current file, whether the current file is
 * still a second name (hard link) of the newest backup (a rollover
 * interrupted between sealing the backup and the rename), and opening one
 * file as a cursor (a compressed backup decompressed once, here).
 */
import type { Stats } from 'node:fs';
import { CorruptLogError } from '../errors.js';
import { gunzipBackup } from '../format.js';
import { READ_FLAGS, nodeFs, type FsOps } from '../fsops.js';
import { listBackups, nextSeq, type Backup } from '../naming.js';
import { RecordCursor, type CursorOptions } from './cursor.js';

/** One file of a log, as a reader walks it. */
export interface LogFile {
  path: string;
  /** Backup number; for the current file, the seq it will have once rolled over. */
  seq: number;
  /** A gzip-compressed backup (`events.3.bin.gz`). */
  gzip: boolean;
  /** The current file: a torn tail there is end of data, not corruption. */
  isCurrent: boolean;
}

/** The files of a log at one moment. */
export interface LogSnapshot {
  backups: Backup[];
  /** The current file's stat, if it exists. */
  current: Stats | undefined;
  /** The seq the current file will have once rolled over. */
  currentSeq: number;
  /** The current file is the same file as the newest backup (an interrupted rollover). */
  linkedCurrent: boolean;
  /** Files in reading order; the current file is left out when it is linked (its records are the backup's). */
  files: LogFile[];
}

/** True when two stats are of the same file (hard links of one inode). */
export function sameFile(a: Stats | undefined, b: Stats | undefined): boolean {
  return a !== undefined && b !== undefined && a.ino === b.ino && a.dev === b.dev;
}

/** stat, or undefined when the path is not there for us (ENOENT, ENOTDIR, EACCES on the directory). */
export function statOrUndefined(fs: FsOps, path: string): Stats | undefined {
  try {
    return fs.statSync(path);
  } catch {
    return undefined;
  }
}

/** Is `stat` (of the current file) the newest uncompressed backup's file? */
export function isLinkedToLast(fs: FsOps, backups: readonly Backup[], stat: Stats | undefined): boolean {
  const last = backups[backups.length - 1];
  return last !== undefined && !last.gzip && sameFile(stat, statOrUndefined(fs, last.path));
}

/** List the files of the log whose current file is `path`. */
export function takeSnapshot(path: string, fs: FsOps = nodeFs): LogSnapshot {
  const backups = listBackups(path, fs);
  const current = statOrUndefined(fs, path);
  const currentSeq = nextSeq(backups);
  const linkedCurrent = isLinkedToLast(fs, backups, current);
  const files: LogFile[] = backups.map((b) => ({ path: b.path, seq: b.seq, gzip: b.gzip, isCurrent: false }));
  if (current && !linkedCurrent) files.push({ path, seq: currentSeq, gzip: false, isCurrent: true });
  return { backups, current, currentSeq, linkedCurrent, files };
}

/**
 * The error every reader throws for a path with neither a current file nor
 * a backup: an OS-style ENOENT (`code`, `errno`, `syscall: 'open'`, `path`),
 * as opening the current file would throw, so that a typo is never read as
 * an empty log.
 */
export function noLogError(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOENT: no log at '${path}': no current file and no backups`), {
    code: 'ENOENT',
    errno: -2,
    syscall: 'open',
    path,
  });
}

/** Throw ENOENT (see noLogError) unless the snapshot has a current file or a backup. */
export function requireLog(path: string, snapshot: LogSnapshot): void {
  if (snapshot.current === undefined && snapshot.backups.length === 0) throw noLogError(path);
}

/** What openLogFile() found: a cursor, a file that vanished, or why it cannot be read. */
export type OpenedFile =
  | { cursor: RecordCursor; diskSize: number }
  | { missing: true }
  | { error: Error; diskSize: number; why: string };

/**
 * Open one file of a log as a cursor. Never throws for the file itself: a
 * file that vanished (retention, a rollover) is `missing`; one that cannot
 * be read gives the error a reader throws (the OS error; EISDIR for a
 * directory; CorruptLogError `'bad-gzip'` for a compressed backup that does
 * not decompress). A compressed backup is decompressed whole: at most one
 * file's worth of memory (maxFileSize plus a record), bounded by its trailer.
 */
export function openLogFile(file: LogFile, fs: FsOps = nodeFs, options: CursorOptions = {}): OpenedFile {
  let fd: number;
  try {
    fd = fs.openSync(file.path, READ_FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    return { error: err as Error, diskSize: 0, why: `cannot open the file: ${(err as Error).message}` };
  }
  let diskSize = 0;
  try {
    const stat = fs.fstatSync(fd);
    diskSize = stat.size;
    if (!stat.isFile()) {
      fs.closeSync(fd);
      const what = stat.isDirectory() ? 'EISDIR: illegal operation on a directory' : 'EINVAL: not a regular file';
      const error = Object.assign(new Error(`${what}, read '${file.path}'`), {
        code: stat.isDirectory() ? 'EISDIR' : 'EINVAL',
        syscall: 'read',
        path: file.path,
      });
      return { error, diskSize, why: 'not a regular file' };
    }
    if (!file.gzip) return { cursor: new RecordCursor({ fs, fd, size: stat.size }, options), diskSize };
    const packed = readWhole(fs, fd, stat.size);
    fs.closeSync(fd);
    try {
      return { cursor: new RecordCursor({ data: gunzipBackup(packed) }, options), diskSize };
    } catch (err) {
      const why = `not a readable gzip file: ${(err as Error).message}`;
      return { error: new CorruptLogError(file.path, 0, 'bad-gzip', why), diskSize, why };
    }
  } catch (err) {
    try {
      fs.closeSync(fd);
    } catch {
      // closed already
    }
    return { error: err as Error, diskSize, why: `cannot read the file: ${(err as Error).message}` };
  }
}

/** Open a file of the log for a reader: undefined if it vanished, the error thrown if unreadable. */
export function openOrThrow(file: LogFile, fs: FsOps = nodeFs, options: CursorOptions = {}): RecordCursor | undefined {
  const opened = openLogFile(file, fs, options);
  if ('error' in opened) throw opened.error;
  return 'missing' in opened ? undefined : opened.cursor;
}

function readWhole(fs: FsOps, fd: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const n = fs.readSync(fd, out, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return out.subarray(0, got);
}
