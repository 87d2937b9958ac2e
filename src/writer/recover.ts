/**
 * Recovery: bring the shared state and the files into agreement, from the
 * files themselves. Runs when the first logger opens a log, when a thread
 * takes the lock over from a holder that died, and when another program
 * changed the current file under us. ("repair" is the public tool of
 * repair.ts; this is the writer's own, smaller job.)
 */
import { constants as fsConstants } from 'node:fs';
import { CorruptLogError, WARN_CURRENT_FILE_CHANGED, WARN_ROLLOVER_RECOVERED, WARN_TORN_TAIL, isErrno } from '../errors.js';
import { MAX_PAYLOAD_BYTES } from '../format.js';
import { APPEND_FLAGS, writeAll } from '../fsops.js';
import { listBackups, nextSeq, rolloverTempPath } from '../naming.js';
import type { LogContext } from './context.js';
import { FILE_MODE, tryClose, tryUnlink } from './files.js';
import { rollover } from './rollover.js';
import { scanWholeRecords } from './scan-whole.js';

/**
 * How often the current file is checked against the path, in ms: a file
 * deleted, truncated or replaced by another program (logrotate's
 * copytruncate) is noticed at the first commit after this long.
 */
export const CHECK_INTERVAL_MS = 1000;

/** Copying a torn tail aside goes a chunk at a time. */
const COPY_CHUNK_BYTES = 1 << 20;

/**
 * Under the lock: finish or undo a rollover a crash interrupted, cut a torn
 * tail off the current file (keeping a copy beside it), and roll over a
 * current file already at maxFileSize.
 *
 * @throws CorruptLogError `ERR_LOG_CORRUPT` if the current file holds a
 *   length no writer could have produced (it is not a log): nothing on disk
 *   is changed by the scan, and no descriptor is left open.
 */
export function recover(log: LogContext): void {
  const { state: st, fs, path } = log;
  const temp = rolloverTempPath(path);

  const interrupted = st.rolling || fs.statSync(temp) !== undefined;
  tryUnlink(fs, temp);
  st.rolling = false;

  const backups = listBackups(path);
  const last = backups[backups.length - 1];
  st.seq = Math.max(st.seq, nextSeq(backups));
  const current = fs.statSync(path);
  // Sealed by link but not replaced: the backup holds the records.
  if (current && last && !last.gzip) {
    const sealed = fs.statSync(last.path);
    if (sealed && sealed.ino === current.ino && sealed.dev === current.dev) fs.unlinkSync(path);
  }
  if (interrupted) {
    process.emitWarning(`Finished an interrupted rollover of "${path}"`, { code: WARN_ROLLOVER_RECOVERED });
  }

  // Every thread reopens the current file after a recovery.
  const fd = fs.openSync(path, APPEND_FLAGS, FILE_MODE);
  let whole: number;
  let size: number;
  try {
    size = fs.fstatSync(fd).size;
    const scan = scanWholeRecords(fs, fd, size);
    whole = scan.end;
    if (scan.stop === 'bad-length') throw notALog(path, whole);
    if (whole < size) {
      // Keep a copy before cutting: no byte is deleted without a copy
      // (binlog repair does the same).
      const copy = setAside(log, fd, whole, size);
      fs.ftruncateSync(fd, whole);
      process.emitWarning(`Cut a torn tail of ${size - whole} bytes off "${path}" at byte ${whole}; the bytes are kept in "${copy}"`, {
        code: WARN_TORN_TAIL,
        detail: 'A process died while writing the last record (which was never acknowledged), or a length is corrupt.',
      });
    }
  } catch (err) {
    tryClose(fs, fd);
    throw err;
  }
  log.useFd(fd, whole);
  st.checkAt = Date.now() + CHECK_INTERVAL_MS;
  if (whole > 0 && whole >= log.settings.maxFileSize) rollover(log);
}

/** The error for a current file whose header at `offset` declares an impossible length. */
function notALog(path: string, offset: number): CorruptLogError {
  // TODO(merge): reason 'bad-length' (the reader branch adds it to CorruptLogError).
  return new CorruptLogError(
    path,
    offset,
    `a record header declares more than the largest record a writer can produce (${MAX_PAYLOAD_BYTES} bytes) and runs past the end of the file: this is not a log, or its length is corrupt; the writer leaves it as it is`,
  );
}

/**
 * Under the lock: is the file we append to still the one at the path,
 * with the size we think? Another program may have deleted, truncated or
 * replaced it (logrotate's copytruncate or create). If not, recover()
 * takes the log from what is on disk now.
 */
export function checkCurrentFile(log: LogContext): void {
  const { state: st, fs, path } = log;
  st.checkAt = Date.now() + CHECK_INTERVAL_MS;
  const onDisk = fs.statSync(path);
  const mine = fs.fstatSync(log.fd);
  let change: string | undefined;
  if (!onDisk) change = 'was deleted; recreating it';
  else if (onDisk.ino !== mine.ino || onDisk.dev !== mine.dev) change = 'was replaced by another file; appending to the new one';
  else if (mine.size < st.size) change = `was truncated from ${st.size} to ${mine.size} bytes`;
  else if (mine.size > st.size) change = `grew by ${mine.size - st.size} bytes written by another program`;
  if (change === undefined) return;
  process.emitWarning(`The current file "${path}" ${change}`, { code: WARN_CURRENT_FILE_CHANGED });
  recover(log);
}

/** Copy bytes [from, to) of the current file to a new `<path>.corrupt-<from>[.n]`. */
function setAside(log: LogContext, fd: number, from: number, to: number): string {
  const { fs, path } = log;
  let name = `${path}.corrupt-${from}`;
  let out = -1;
  for (let n = 1; out < 0; n++) {
    try {
      out = fs.openSync(name, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, FILE_MODE);
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
      name = `${path}.corrupt-${from}.${n}`;
    }
  }
  try {
    const chunk = Buffer.allocUnsafe(Math.min(to - from, COPY_CHUNK_BYTES));
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
