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
 *
 * Of several openers that find the same stale lock, exactly one takes it:
 * the removal of a given lock content is claimed first (removeLockIf), so
 * that no opener can unlink the fresh lock another has just created
 * (issue 11: two owners of one multi-process log).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, readFileSync, statSync, writeSync, constants, type BigIntStats } from 'node:fs';
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

/** What identifies one lock file: a successor always creates a new one. */
export type LockStamp = Pick<BigIntStats, 'ino' | 'dev' | 'mtimeNs' | 'size'>;

/** A lock this process holds: what to release, and what fencing compares against. */
export interface HeldLock {
  path: string;
  content: string;
  /**
   * The lock file as created (fstat of the descriptor that wrote it, not a
   * stat of the path, which may already name a successor's lock).
   */
  stamp: LockStamp;
}

/**
 * Take the log's lock file, or throw ERR_LOGGER_PATH_IN_USE. Returns what to
 * release. `note` (one line) follows the holder's line: a multi-process
 * owner keeps its clients' token there, so the file is then created 0600.
 */
export function takeLock(path: string, fs: FsOps, note?: string): HeldLock {
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
      // Stale: its holder is gone. Remove exactly the lock we judged; if
      // another opener is removing it right now, it is that opener's turn.
      if (removeLockIf(file, held, fs) === 'busy') throw pathInUse(path, '');
      continue;
    }
    let stamp: LockStamp;
    try {
      writeSync(fd, content);
      stamp = fstatSync(fd, { bigint: true });
    } finally {
      closeSync(fd);
    }
    sweepClaims(file, fs);
    return { path: file, content, stamp };
  }
  throw pathInUse(path, '');
}

/**
 * True while the lock file `file` is still the one stamped `mine` at its
 * creation: same inode, size and mtime. A successor (after a takeover, or
 * after this process was stopped and its lock broken) always creates a new file.
 */
export function lockStillHeld(file: string, mine: LockStamp): boolean {
  const now = statSync(file, { bigint: true, throwIfNoEntry: false });
  return now !== undefined && now.ino === mine.ino && now.dev === mine.dev && now.mtimeNs === mine.mtimeNs && now.size === mine.size;
}

/**
 * Remove the lock file if it is still ours. A multi-process owner's lock
 * (one with a note) may be broken by a client while its owner is stopped,
 * so its release is claimed like any removal (removeLockIf); nobody breaks
 * a single-process logger's lock while it lives, so reading then unlinking
 * is enough there, and a kill inside close() leaves no claim file.
 */
export function releaseLock(lock: { path: string; content: string }, fs: FsOps): void {
  const lines = lock.content.split('\n').filter((l) => l !== '');
  if (lines.length > 1) {
    try {
      removeLockIf(lock.path, lock.content, fs);
    } catch {
      // gone already, or the directory went away
    }
    return;
  }
  try {
    if (readFileSync(lock.path, 'utf8') === lock.content) fs.unlinkSync(lock.path);
  } catch {
    // gone already
  }
}

/** A claim file: `.<name>.lock.<hash>` (and a claim on a claim: one more `.<hash>`). */
const CLAIM = /^(?:\.[0-9a-f]{16})+$/;

/**
 * After taking the lock: remove claim files that processes killed while
 * removing a stale lock left behind. Every claim but one on our own lock is
 * inert now (the content it claims is not the lock and never will be), so
 * one whose holder is dead can simply go; a live holder removes its own.
 */
function sweepClaims(file: string, fs: FsOps): void {
  const { dir, base } = splitName(file);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(base) || !CLAIM.test(name.slice(base.length))) continue;
    const claim = join(dir, name);
    try {
      const holder = readFileSync(claim, 'utf8');
      if (holder.endsWith('\n') ? !isHolderAlive(holder) : abandoned(claim)) fs.unlinkSync(claim);
    } catch {
      // removed by its holder meanwhile
    }
  }
}

/** How deep claims on claims go before giving up (each level needs a process to die inside a few system calls). */
const MAX_CLAIM_DEPTH = 3;

/**
 * Remove the lock file `file` only if it still holds exactly `content`.
 *
 * Reading the file and then unlinking it is not enough (issue 11): two
 * openers both judge the same dead holder's lock stale; the first removes
 * it and creates its own; the second, a moment late, unlinks that fresh
 * lock and creates another, and both believe they own the log (two
 * writers: their rollovers then race for the same backup names). So the
 * removal of one lock content is claimed first: the remover creates the
 * claim `<file>.<hash of content>` with O_EXCL, and only while holding it
 * reads and unlinks. The lock cannot change from `content` to anything else
 * behind a claim holder's back: only a holder of that claim removes it,
 * and a new lock can only be created where none is.
 *
 * Returns 'removed', 'changed' (the file holds something else, or is gone),
 * or 'busy' (another live process holds the claim: it is removing the
 * lock now). A claim whose holder died (killed inside these few system
 * calls) is removed the same way, one level down.
 */
export function removeLockIf(file: string, content: string, fs: FsOps, depth = 0): 'removed' | 'changed' | 'busy' {
  const claim = `${file}.${createHash('sha256').update(content).digest('hex').slice(0, 16)}`;
  const mine = lockContent();
  let fd = -1;
  for (let attempt = 0; fd < 0; attempt++) {
    try {
      fd = fs.openSync(claim, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
      if (attempt > 0 || depth >= MAX_CLAIM_DEPTH) return 'busy';
      let other: string;
      try {
        other = readFileSync(claim, 'utf8');
      } catch (readErr) {
        if (isErrno(readErr, 'ENOENT')) continue; // its holder finished
        throw readErr;
      }
      const whole = other.endsWith('\n');
      if (whole ? isHolderAlive(other) : !abandoned(claim)) return 'busy';
      if (removeLockIf(claim, other, fs, depth + 1) === 'busy') return 'busy';
    }
  }
  try {
    writeSync(fd, mine);
    closeSync(fd);
    fd = -1;
    let now: string;
    try {
      now = readFileSync(file, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return 'changed';
      throw err;
    }
    if (now !== content) return 'changed';
    try {
      fs.unlinkSync(file);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    return 'removed';
  } finally {
    if (fd >= 0) closeSync(fd);
    // Ours, and nobody else removes a claim whose holder lives.
    try {
      fs.unlinkSync(claim);
    } catch {
      // gone already
    }
  }
}
