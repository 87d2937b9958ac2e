/**
 * How processes of one log find its owner and prove they may talk to it.
 *
 * The owner takes the log's lock file as a single-process logger does
 * (lockfile.ts), and writes a second line into it (the file is then 0600):
 * a JSON note with a random token and the name of the socket it listens
 * on. A process that can read the lock file (the same user, or root) can
 * connect and present the token; nobody else can. The socket name carries
 * part of the token, so each owner listens on a fresh name: a stopped
 * former owner that still holds its name never blocks its successor.
 *
 * On Linux the socket is in the abstract namespace (a name starting with
 * NUL): the kernel releases it when its owner dies, nothing to clean up.
 * Elsewhere (macOS) it is a path socket in the temp directory, removed by
 * the owner at close; one a crash leaves behind is harmless (a fresh name
 * per owner) and is removed by the next owner that finds it dead.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, realpathSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFs } from '../fsops.js';
import { lockPath, removeLockIf } from '../lockfile.js';

/** What the owner writes on the second line of the lock file. */
export interface OwnerNote {
  /** Random, 32 bytes hex: the first frame of every client must carry it. */
  token: string;
  /** Where the owner listens (node:net path; abstract names start with NUL). */
  socket: string;
  /** The owner's process id, for `logOwner()` and the stopped-owner check. */
  pid: number;
}

/** The lock file as a client sees it. */
export interface LockView {
  /** Exact content, to break the lock only if it is still this one. */
  content: string;
  /** The holder's line: "<pid> <tid> [<start> <boot>]". */
  holder: string;
  pid: number;
  /** Absent if the holder is a single-process logger (or still writing the file). */
  note: OwnerNote | undefined;
}

const ABSTRACT = process.platform === 'linux';

/** A fresh note for an owner about to take the lock of `path`. */
export function newNote(path: string): OwnerNote {
  const token = randomBytes(32).toString('hex');
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // not created yet: the given (absolute) path names it as well
  }
  const hash = createHash('sha256').update(real).digest('hex').slice(0, 16);
  const name = `binlog-${hash}-${token.slice(0, 8)}`;
  return { token, socket: ABSTRACT ? `\0${name}` : join(tmpdir(), `${name}.sock`), pid: process.pid };
}

export function encodeNote(note: OwnerNote): string {
  return JSON.stringify(note);
}

/** Read the lock file of `path`; undefined if there is none. Throws EACCES for another user's lock. */
export function readLockView(path: string): LockView | undefined {
  let content: string;
  try {
    content = readFileSync(lockPath(path), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const [holder = '', noteLine] = content.split('\n');
  const pid = Number(holder.trim().split(/\s+/)[0]);
  return { content, holder: holder.trim(), pid: Number.isSafeInteger(pid) ? pid : 0, note: parseNote(noteLine) };
}

function parseNote(line: string | undefined): OwnerNote | undefined {
  if (!line) return undefined;
  try {
    const v = JSON.parse(line) as Partial<OwnerNote>;
    if (typeof v.token === 'string' && typeof v.socket === 'string' && typeof v.pid === 'number') {
      return { token: v.token, socket: v.socket, pid: v.pid };
    }
  } catch {
    // half-written: treated as no note yet
  }
  return undefined;
}

/**
 * True if process `pid` is stopped (SIGSTOP, SIGTSTP, a debugger): alive,
 * holding its lock, and answering nobody. Linux only (/proc); false elsewhere.
 */
export function processStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'T' || state === 't';
  } catch {
    return false;
  }
}

/**
 * Remove the lock file of `path` if it still holds exactly `content` (a
 * stopped owner's). Returns true if removed. A successor that took the lock
 * meanwhile wrote other content (its own token), so it is left alone; of
 * several clients breaking the same stopped owner's lock at once, exactly
 * one removes it (removeLockIf claims the removal first: a plain read then
 * unlink could remove the lock the first breaker had just taken). A
 * stopped owner that resumes is fenced: it checks its lock file is still
 * its own before every commit and every step of a rollover (see agent.ts).
 */
export function breakLock(path: string, content: string): boolean {
  try {
    return removeLockIf(lockPath(path), content, nodeFs) === 'removed';
  } catch {
    return false;
  }
}

/** Remove a path socket (not Linux); abstract names need no cleanup. */
export function removeSocket(socket: string): void {
  if (socket.startsWith('\0')) return;
  try {
    unlinkSync(socket);
  } catch {
    // gone already
  }
}
