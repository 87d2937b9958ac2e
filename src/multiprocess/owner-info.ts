/**
 * logOwner(): who has a log open, for `binlog stats` and for operators.
 */
import { toPath } from '../validate.js';
import { describeHolder, isHolderAlive } from '../lockfile.js';
import { ClientLink } from './link.js';
import { readLockView } from './rendezvous.js';

/** What logOwner() reports about a log that is open. */
export interface LogOwner {
  /** Process id of the process that writes the files. */
  pid: number;
  /** The holder in words: "process 123, thread 456". */
  holder: string;
  /** True if the log was opened with `multiProcess` (other processes may write through this one). */
  multiProcess: boolean;
  /**
   * Client processes connected to the owner now (multiProcess only);
   * undefined if the owner did not answer within the timeout (stopped, or
   * another user's log).
   */
  clients: number | undefined;
}

/** How long logOwner() waits for the owner's answer. */
const ASK_TIMEOUT_MS = 1000;

/**
 * The process that has the log at `filePath` open and, for a multi-process
 * log, how many client processes it serves; undefined if the log is not
 * open (no lock file, or one left by a process that died). Asks the owner over its socket, with the token from
 * the lock file (so only its user or root gets the count).
 *
 * @throws the OS error (EACCES) if the lock file cannot be read.
 * @example
 * ```ts
 * const owner = await logOwner('./logs/events.bin');
 * if (owner) console.log(`open in process ${owner.pid}, ${owner.clients ?? '?'} clients`);
 * ```
 */
export async function logOwner(filePath: string | URL): Promise<LogOwner | undefined> {
  const path = toPath(filePath);
  const view = readLockView(path);
  // A lock file left by a process that died is no owner.
  if (!view || !isHolderAlive(view.holder)) return undefined;
  const base = { pid: view.pid, holder: describeHolder(view.holder), multiProcess: view.note !== undefined };
  const note = view.note;
  if (!note) return { ...base, clients: undefined };
  const clients = await new Promise<number | undefined>((resolve) => {
    let link: ClientLink | undefined = undefined;
    const finish = (n: number | undefined): void => {
      clearTimeout(timer);
      link?.destroy();
      resolve(n);
    };
    const timer = setTimeout(() => finish(undefined), ASK_TIMEOUT_MS);
    link = new ClientLink(note, { pid: process.pid, role: 'monitor' }, {
      welcome: () => link?.askStatus(),
      ack: () => undefined,
      error: () => finish(undefined),
      status: (m) => finish(typeof m.clients === 'number' ? m.clients : undefined),
      lost: () => finish(undefined),
    });
  });
  return { ...base, clients };
}
