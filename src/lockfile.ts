/**
 * One writer per log: the logger that opens a log takes `.<name>.lock`
 * beside the current file, holding "<pid> <tid>" of the thread that owns
 * it. A second logger on the same log, in this thread, another thread or
 * another process, is refused with ERR_LOGGER_PATH_IN_USE while that
 * thread lives; a lock left by a process or thread that died (a crash, a
 * SIGKILL) is stale and taken over. Threads of one process share a log with
 * share()/attach(), which take no lock.
 */
import { closeSync, openSync, readFileSync, writeSync, constants } from 'node:fs';
import { join } from 'node:path';
import { isErrno, pathInUse } from './errors.js';
import type { FsOps } from './fsops.js';
import { splitName } from './naming.js';
import { threadToken } from './shared.js';

export function lockPath(path: string): string {
  const { dir, base } = splitName(path);
  return join(dir, `.${base}.lock`);
}

function holderAlive(pid: number, tid: number): boolean {
  if (pid === process.pid) {
    // Another thread of ours: alive while the kernel lists it.
    if (tid <= 0) return true;
    try {
      readFileSync(`/proc/self/task/${tid}/stat`);
      return true;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}

/** Take the log's lock file, or throw ERR_LOGGER_PATH_IN_USE. Returns what to release. */
export function takeLock(path: string, fs: FsOps): { path: string; content: string } {
  const file = lockPath(path);
  const content = `${process.pid} ${threadToken()}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
      let held: string;
      try {
        held = readFileSync(file, 'utf8');
      } catch (readErr) {
        if (isErrno(readErr, 'ENOENT')) continue; // released meanwhile
        throw readErr;
      }
      const [pid = NaN, tid = NaN] = held.trim().split(/\s+/).map(Number);
      // An empty or half-written lock is being taken right now: in use.
      if (!Number.isSafeInteger(pid) || holderAlive(pid, tid)) throw pathInUse(path, held.trim());
      try {
        fs.unlinkSync(file); // stale: its holder is gone
      } catch (unlinkErr) {
        if (!isErrno(unlinkErr, 'ENOENT')) throw unlinkErr;
      }
      continue;
    }
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    return { path: file, content };
  }
  throw pathInUse(path, '');
}

/** Remove the lock file if it is still ours. */
export function releaseLock(lock: { path: string; content: string }, fs: FsOps): void {
  try {
    if (readFileSync(lock.path, 'utf8') === lock.content) fs.unlinkSync(lock.path);
  } catch {
    // gone already
  }
}
