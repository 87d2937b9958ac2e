/**
 * One writer per log: the logger that opens a log takes `.<name>.lock`
 * beside the current file, holding "<pid> <tid> <start> <boot>" of the
 * thread that owns it: its process id, its OS thread id, the thread's start
 * time (field 22 of /proc/<pid>/task/<tid>/stat) and the kernel's boot id.
 * A second logger on the same log, in this thread, another thread or
 * another process, is refused with ERR_LOGGER_PATH_IN_USE while that
 * thread lives; a lock left by a process or thread that died (a crash, a
 * SIGKILL) is stale and taken over. Threads of one process share a log with
 * share()/attach(), which take no lock.
 *
 * The start time and boot id tell a live holder from a new process that
 * was given the dead holder's pid: after a reboot, by pid reuse, and above
 * all in a container, where a restarted process gets the very pid (and
 * main-thread tid) its killed predecessor wrote into the lock. Without
 * /proc the lock holds "<pid> <tid>" and a live pid counts as the holder.
 */
import { closeSync, readFileSync, statSync, writeSync, constants } from 'node:fs';
import { join } from 'node:path';
import { isErrno, pathInUse } from './errors.js';
import type { FsOps } from './fsops.js';
import { splitName } from './naming.js';
import { threadToken } from './shared.js';

export function lockPath(path: string): string {
  const { dir, base } = splitName(path);
  return join(dir, `.${base}.lock`);
}

/** The start time of thread `tid` of process `pid` (clock ticks after boot), or undefined. */
function threadStart(pid: number | 'self', tid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, starttime field 22.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

let bootIdCache: string | undefined | null = null;

function bootId(): string | undefined {
  if (bootIdCache === null) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
    } catch {
      bootIdCache = undefined;
    }
  }
  return bootIdCache;
}

/** What this thread writes into a lock it takes. */
function lockContent(): string {
  const tid = threadToken();
  const start = tid > 0 ? threadStart('self', tid) : undefined;
  const boot = bootId();
  return start && boot ? `${process.pid} ${tid} ${start} ${boot}\n` : `${process.pid} ${tid}\n`;
}

function holderAlive(pid: number, tid: number, start: string | undefined, boot: string | undefined): boolean {
  if (boot !== undefined && bootId() !== undefined && boot !== bootId()) return false; // written before a reboot
  if (pid === process.pid) {
    // Another thread of ours: alive while the kernel lists it, with the
    // start time it had (else the pid and tid are a dead holder's, reused).
    if (tid <= 0) return true;
    const now = threadStart('self', tid);
    return now !== undefined && (start === undefined || now === start);
  }
  if (start !== undefined && tid > 0) {
    const now = threadStart(pid, tid);
    if (now !== undefined) return now === start;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}

/**
 * The holder recorded in a lock file, in words: "process 1234, thread 5678"
 * (the OS thread id; "Node thread N" where /proc gave none), or "" when the
 * file does not name one yet (it is being written).
 */
export function describeHolder(content: string): string {
  const [pidText, tidText] = content.trim().split(/\s+/);
  const pid = Number(pidText);
  const tid = Number(tidText);
  if (!pidText || !Number.isSafeInteger(pid) || pid <= 0) return '';
  if (!tidText || !Number.isSafeInteger(tid)) return `process ${pid}`;
  // A negative token is -(Node threadId + 1), used where /proc is missing.
  return tid > 0 ? `process ${pid}, thread ${tid}` : `process ${pid}, Node thread ${-tid - 1}`;
}

/** True if the holder on a lock file's first line is a live thread (not one that died, nor a reused pid). */
export function isHolderAlive(holder: string): boolean {
  const [pidText, tidText, start, boot] = holder.trim().split(/\s+/);
  const pid = Number(pidText);
  return Number.isSafeInteger(pid) && pid > 0 && holderAlive(pid, Number(tidText), start, boot);
}

/** A lock file that is not whole this long after it was created was abandoned. */
export const LOCK_TAKE_GRACE_MS = 5000;

function abandoned(file: string): boolean {
  const st = statSync(file, { throwIfNoEntry: false });
  return st !== undefined && Date.now() - st.mtimeMs > LOCK_TAKE_GRACE_MS;
}

/**
 * Take the log's lock file, or throw ERR_LOGGER_PATH_IN_USE. Returns what to
 * release. `note` (one line) follows the holder's line: a multi-process
 * owner keeps its clients' token there, so the file is then created 0600.
 */
export function takeLock(path: string, fs: FsOps, note?: string): { path: string; content: string } {
  const file = lockPath(path);
  const content = lockContent() + (note === undefined ? '' : `${note}\n`);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, note === undefined ? 0o644 : 0o600);
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
      let held: string;
      try {
        held = readFileSync(file, 'utf8');
      } catch (readErr) {
        if (isErrno(readErr, 'ENOENT')) continue; // released meanwhile
        throw readErr;
      }
      // The holder is on the first line; a multi-process owner's note (its
      // clients' token) follows and must never reach an error message.
      const holder = held.split('\n', 1)[0]!.trim();
      const [pidText, tidText, start, boot] = holder.split(/\s+/);
      const pid = Number(pidText);
      const tid = Number(tidText);
      if (!held.endsWith('\n') || !Number.isSafeInteger(pid)) {
        // An empty or half-written lock is being taken right now (in use),
        // unless it has been so for long: its taker died between creating
        // and writing it.
        if (!abandoned(file)) throw pathInUse(path, describeHolder(holder));
      } else if (holderAlive(pid, tid, start, boot)) {
        throw pathInUse(path, describeHolder(holder));
      }
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
