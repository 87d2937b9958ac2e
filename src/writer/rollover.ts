/**
 * Rollover: seal the current file as the next numbered backup and put a
 * fresh empty current file in its place, under the log's lock.
 *
 * Rollover (docs/FORMAT.md, "Rollover and recovery") never overwrites and
 * never leaves the log unreadable at any crash point:
 *   1. create the empty next current file under a temporary dot-name;
 *   2. link(current -> backup): seals the backup, fails if the name exists;
 *   3. rename(temporary -> current): atomically puts the fresh file in place;
 *   4. bump the shared generation: every other thread reopens the current
 *      file by path before its next write.
 * A multi-process owner checks before each step that it still owns the log
 * (log.fence(), issue 11): a former owner that was stopped and resumed must
 * not seal its successor's current file under its own, stale, seq.
 * recover() (recover.ts) finishes or undoes a rollover that a crash
 * interrupted.
 */
import { ERR_FENCED, isErrno, rolloverFailed } from '../errors.js';
import { DIR_FLAGS, FRESH_FLAGS, withPath } from '../fsops.js';
import { backupPath, rolloverTempPath, splitName } from '../naming.js';
import { applyRetention, hasLimits } from '../retention.js';
import type { LogContext } from './context.js';
import { FILE_MODE, tryClose, tryUnlink } from './files.js';

/** A failed rollover is retried at a write this long after the failure. */
export const ROLLOVER_RETRY_MS = 1000;

/** True while a failed rollover waits for its retry time. */
export function rolloverPaused(log: LogContext): boolean {
  return log.state.rollFailing && Date.now() < log.state.rollRetryAt;
}

/**
 * Under the lock: seal the current file as the next backup. A failure is
 * undone (the current file stays current, nothing is lost or replaced),
 * reported once as ERR_ROLLOVER_FAILED, and retried after ROLLOVER_RETRY_MS.
 *
 * @throws ERR_FENCED (undone likewise) if log.fence() finds the log owned
 *   by a successor: the caller must step down, not retry.
 */
export function rollover(log: LogContext): void {
  if (rolloverPaused(log)) return;
  const { state: st, fs, path } = log;
  const seq = st.seq;
  const backup = backupPath(path, seq);
  const temp = rolloverTempPath(path);
  st.rolling = true;
  let fresh = -1;
  let sealed = false;
  try {
    log.fence();
    fresh = fs.openSync(temp, FRESH_FLAGS, FILE_MODE);
    log.fence();
    sealed = seal(log, backup);
    log.fence();
    fs.renameSync(temp, path);
  } catch (err) {
    if (sealed) tryUnlink(fs, backup);
    if (fresh >= 0) {
      tryClose(fs, fresh);
      tryUnlink(fs, temp);
    }
    st.rolling = false;
    if (isErrno(err, ERR_FENCED)) throw err;
    failed(log, backup, err);
    return;
  }
  if (log.fsync) syncDir(log);
  log.useFd(fresh, 0);
  st.seq = seq + 1;
  st.rolling = false;
  if (st.rollFailing) st.rollFailing = false;
  log.queue({ kind: 'rotate', backup });
  if (hasLimits(log.settings)) {
    try {
      log.fence(); // retention deletes backups: only the owner may
      applyRetention(path, log.settings, fs);
    } catch (err) {
      if (isErrno(err, ERR_FENCED)) throw err;
      log.queue({ kind: 'error', error: err });
    }
  }
}

/**
 * Give the current file its backup name without ever replacing a file:
 * link(2) fails with EEXIST where rename(2) would overwrite. Returns true
 * if the current file is now also the backup (a hard link to undo on
 * failure); on file systems without hard links, renames it instead.
 */
function seal(log: LogContext, backup: string): boolean {
  const { fs, path } = log;
  try {
    fs.linkSync(path, backup);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
  }
  if (fs.statSync(backup)) {
    throw Object.assign(new Error(`EEXIST: file already exists, rename '${path}' -> '${backup}'`), {
      code: 'EEXIST',
      syscall: 'rename',
      path,
      dest: backup,
    });
  }
  fs.renameSync(path, backup);
  return false;
}

/** Report a failed rollover once, not per record, and schedule its retry. */
function failed(log: LogContext, backup: string, cause: unknown): void {
  const st = log.state;
  st.rollRetryAt = Date.now() + ROLLOVER_RETRY_MS;
  if (st.rollFailing) return;
  st.rollFailing = true;
  log.queue({ kind: 'error', error: rolloverFailed(log.path, backup, cause) });
}

/** fsync(2) the log's directory so the renames survive a power loss. */
function syncDir(log: LogContext): void {
  const { fs } = log;
  const dir = splitName(log.path).dir;
  let fd = -1;
  try {
    fd = fs.openSync(dir, DIR_FLAGS);
    fs.fsyncSync(fd);
  } catch (err) {
    // Some file systems refuse fsync on a directory; the rename is done.
    if (!isErrno(err, 'EINVAL') && !isErrno(err, 'EISDIR')) log.queue({ kind: 'error', error: withPath(err, dir) });
  } finally {
    if (fd >= 0) tryClose(fs, fd);
  }
}
