/**
 * The agent: one helper thread per multi-process logger, doing the socket
 * I/O so that write() in the caller's thread can stay synchronous (the
 * caller waits on Atomics.wait while the agent's event loop runs, as
 * synckit and pino's thread-stream do).
 *
 * The agent is either the log's owner (it holds the lock file, writes the
 * files through the threads' commit path, writer/thread-path.ts, runs the
 * owner's housekeeping, and serves the other processes) or a client (it
 * forwards batches to the owner, and makes the FIFO pair on which its
 * caller sends small 'sync' batches itself: fifo-agent.ts). As the owner
 * it grants its caller direct commits under the same lock (owner-path.ts);
 * batches its caller hands it anyway (before a grant is taken up, or after
 * the caller's fencing check failed) are committed or forwarded the same
 * way, so ownership can move between processes without the caller noticing:
 *
 *   - the owner's connection ends (it died, or closed the log): the agent
 *     reads the lock file again and connects to the new owner, or takes the
 *     lock itself (an open after a crash: torn tail cut, rollover finished)
 *     when the old holder is gone; one process wins, the others connect to
 *     it. Unacknowledged batches are then sent again, in order.
 *   - the owner is alive but stopped (SIGSTOP): after STALL_MS without an
 *     acknowledgement the agent breaks its lock and takes over (above).
 *   - fencing: an owner checks, before every commit, before each step of a
 *     rollover and retention, and before compression renames or removes,
 *     that the lock file is still the one it created (the stamp takeLock()
 *     took from its own descriptor). A stopped owner that resumes finds it
 *     replaced, writes nothing, drops its connections and becomes a client.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { ERR_FENCED } from '../errors.js';
import { nodeFs } from '../fsops.js';
import { describeHolder } from '../lockfile.js';
import { Housekeeping } from '../writer/housekeeping.js';
import { ThreadCommitPath } from '../writer/thread-path.js';
import { isBuffered } from '../writer/options.js';
import { debug, forwardWarnings } from './agent-io.js';
import { AgentFifos } from './fifo-agent.js';
import { ClientLink } from './link.js';
import { ownerGrant, watchMailbox } from './mailbox.js';
import { ownerSettings } from './owner-path.js';
import { breakLock, encodeNote, newNote, processStopped, readLockView, type OwnerNote } from './rendezvous.js';
import { OwnerServer } from './server.js';
import { ERR_LOGGER_OPTIONS_MISMATCH, fileShape, optionsMismatch, type FileShape } from './shape.js';
import { ACKED, ROLE, ROLE_CLIENT, ROLE_CLOSED, ROLE_FAILED, ROLE_OWNER, WAKE, type AgentData, type ToAgent } from './slots.js';

/** An owner that leaves a batch unacknowledged this long, and is stopped, is replaced. */
export const STALL_MS = 1000;
/** Between two attempts to connect or take the lock while ownership moves. */
const RETRY_MS = 15;
/** The longest a closing owner waits for its last acknowledgements to leave. */
const DRAIN_MS = 1000;

const data = workerData as AgentData;
const ctl = new Int32Array(data.ctl);
const reply: MessagePort = data.reply;
const mailbox = Buffer.from(data.mailbox);
const shape: FileShape = fileShape(data.settings);

interface Batch {
  id: number;
  records: Uint8Array;
  /** The whole BATCH frame (head and records) when it came through the mailbox. */
  frame?: Uint8Array | undefined;
  sentAt: number;
}

/** Batches from our caller not yet acknowledged, in order. */
const pending: Batch[] = [];
let closing = false;
let opened = false;
/** The owner's own commit path to the files (one thread: the lock's atomics are skipped). */
let logger: ThreadCommitPath | undefined;
let housekeeping: Housekeeping | undefined;
let server: OwnerServer | undefined;
let link: ClientLink | undefined;
/** The lock file content of the owner we talk to, to break it if it stalls. */
let ownerLock: { content: string; pid: number } | undefined;
let retryTimer: NodeJS.Timeout | undefined;
/** Our caller's FIFO pair to the owner we talk to ('sync' and 'fsync'). */
const fifos = new AgentFifos(ctl, reply, debug);
/** The lock content of an owner we could not reach: next, try to take the lock (takeLock() tells dead from starting). */
let unreachable: string | undefined;

function wake(): void {
  Atomics.add(ctl, WAKE, 1);
  Atomics.notify(ctl, WAKE);
}

function setRole(role: number): void {
  Atomics.store(ctl, ROLE, role);
  wake();
}

/** Batch `id` is done (written, or refused with an error already posted). */
function done(id: number): void {
  Atomics.store(ctl, ACKED, id | 0);
  wake();
}

function postError(id: number, err: { code?: unknown; message?: unknown; syscall?: unknown; path?: unknown; written?: unknown }): void {
  reply.postMessage({ type: 'error', id, code: err.code, message: err.message, syscall: err.syscall, path: err.path, written: err.written });
}

/** A failure before the first role was reached: the caller's constructor throws it. */
function failOpen(err: { code?: unknown; message?: unknown; syscall?: unknown; path?: unknown }): void {
  closing = true;
  postError(-1, err);
  setRole(ROLE_FAILED);
}

// ------------------------------------------------------------------ owner

/** For housekeeping: do we still own the log? */
function owns(mine: ThreadCommitPath): boolean {
  try {
    mine.fence();
    return logger === mine;
  } catch {
    return false;
  }
}

/**
 * Commit framed records as the owner, after the fencing check (ERR_FENCED
 * unless our lock file is still the one takeLock created and stamped).
 */
function commit(records: Buffer): void {
  const local = logger!;
  local.fence();
  try {
    local.commit(records, records.length);
  } catch (err) {
    if (typeof err === 'object' && err !== null) Object.assign(err, { written: local.committed });
    throw err;
  } finally {
    local.drainEvents();
  }
}

function reportFailure(err: unknown): void {
  const e = err as NodeJS.ErrnoException;
  reply.postMessage({ type: 'failed', message: e.message ?? String(err), code: e.code });
}

async function becomeOwner(): Promise<boolean> {
  const note: OwnerNote = newNote(data.path);
  const content = encodeNote(note);
  const settings = ownerSettings(data.settings, shape.fsync);
  try {
    logger = new ThreadCommitPath({
      path: data.path,
      settings,
      fs: nodeFs,
      lockNote: content,
      fencing: 'own',
      events: {
        rotated: (backup) => {
          reply.postMessage({ type: 'rotate', value: backup });
          housekeeping?.rotated(backup);
        },
        failed: reportFailure,
      },
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Fenced while recovering: we were stopped and a client took over. Its client, then.
    if (code === 'ERR_LOGGER_PATH_IN_USE' || code === ERR_FENCED) return false;
    throw err;
  }
  const mine = logger;
  housekeeping = new Housekeeping(data.path, settings, nodeFs, { compressed: () => undefined, failed: reportFailure, owns: () => owns(mine) });
  housekeeping.atOpen();
  logger.drainEvents();
  server = new OwnerServer(note, shape, { commit, refused: (reason) => debug(`refused a connection: ${reason}`) });
  try {
    await server.listen();
  } catch (err) {
    stepDown();
    throw err;
  }
  opened = true;
  debug(`owner, ${pending.length} pending`);
  grantDirectCommits();
  setRole(ROLE_OWNER);
  commitPending();
  return true;
}

/** Let our caller commit straight to the files, under our lock, while we are the owner (owner-path.ts). */
function grantDirectCommits(): void {
  const { grant, publish } = ownerGrant(ctl, logger!.share(), logger!.lock!);
  reply.postMessage(grant);
  publish();
}

/** Commit what our caller sent, in order, as the owner. */
function commitPending(): void {
  while (pending.length > 0 && logger) {
    const batch = pending[0]!;
    try {
      commit(Buffer.from(batch.records.buffer, batch.records.byteOffset, batch.records.byteLength));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === ERR_FENCED) {
        stepDown();
        schedule(0);
        return;
      }
      pending.shift();
      postError(batch.id, err as Error);
      done(batch.id);
      continue;
    }
    pending.shift();
    done(batch.id);
  }
}

/** We are not the owner any more (fenced, or failed to serve): let go without touching the files. */
function stepDown(): void {
  debug('step down');
  server?.close();
  server = undefined;
  // close() releases the lock only if it is still ours: a successor's stays.
  try {
    logger?.close();
  } catch {
    // the lock file or a descriptor is gone already
  }
  logger = undefined;
  housekeeping = undefined;
  Atomics.store(ctl, ROLE, ROLE_CLIENT);
}

// ----------------------------------------------------------------- client

function connectTo(note: OwnerNote, lockContent: string, pid: number): void {
  ownerLock = { content: lockContent, pid };
  const hello = { pid: process.pid, options: shape };
  let welcomed = false;
  const current = new ClientLink(note, hello, {
    welcome: () => {
      welcomed = true;
      opened = true;
      setRole(ROLE_CLIENT);
      if (!isBuffered(data.settings.durability)) fifos.offer(current, lockContent);
      const now = Date.now();
      for (const batch of pending) {
        batch.sentAt = now;
        current.send(batch.id, batch.records, batch.frame);
      }
    },
    ack: (id) => {
      while (pending.length > 0) {
        const batch = pending.shift()!;
        done(batch.id);
        if (batch.id === id) break;
      }
    },
    error: (message) => {
      if (message.code === ERR_LOGGER_OPTIONS_MISMATCH) {
        const differences = Array.isArray(message.differences) ? (message.differences as string[]) : [];
        const err = optionsMismatch(data.path, Number(message.pid), differences);
        current.destroy();
        fifos.retire();
        link = undefined;
        if (!opened) failOpen(err);
        else for (const batch of pending.splice(0)) (postError(batch.id, err), done(batch.id));
        return;
      }
      const id = Number(message.id);
      while (pending.length > 0) {
        const batch = pending.shift()!;
        if (batch.id === id) {
          postError(id, message);
          done(id);
          break;
        }
        done(batch.id);
      }
    },
    fifo: (message) => fifos.answered(message.ok === true, message.reason),
    lost: (reason) => {
      debug(`lost ${reason}, welcomed ${welcomed}, ${pending.length} pending`);
      if (link === current) {
        link = undefined;
        fifos.retire();
      }
      if (!welcomed) unreachable = lockContent;
      if (!closing) schedule(welcomed ? 0 : RETRY_MS);
    },
  });
  link = current;
}

/** Find the owner, or become it; again and again until one works. */
async function attempt(): Promise<void> {
  retryTimer = undefined;
  if (closing || link || logger) return;
  try {
    const view = readLockView(data.path);
    if (view?.note && view.content !== unreachable) {
      connectTo(view.note, view.content, view.pid);
      return;
    }
    unreachable = undefined;
    if (view && !view.note && !opened && view.content.endsWith('\n')) {
      // A whole lock without a note: a logger opened without multiProcess.
      const err = Object.assign(
        new Error(
          `Another BinaryLogger has the log "${data.path}" open without multiProcess (${describeHolder(view.holder)}); open it with { multiProcess: true } in every process`,
        ),
        { code: 'ERR_LOGGER_PATH_IN_USE' },
      );
      failOpen(err);
      return;
    }
    if (await becomeOwner()) return;
  } catch (err) {
    if (!opened) {
      failOpen(err as Error);
      return;
    }
    reportFailure(err);
  }
  schedule(RETRY_MS);
}

function schedule(ms: number): void {
  if (closing || retryTimer) return;
  // Jitter, so that clients racing for ownership spread out.
  retryTimer = setTimeout(() => void attempt(), ms + Math.floor(Math.random() * RETRY_MS));
}

/** A stopped owner answers nobody: replace it (see the module comment). */
function checkStall(): void {
  if (!link || !ownerLock) return;
  // The oldest batch: ours, or the one our caller waits for on its FIFO pair.
  const waited = Math.max(pending.length > 0 ? Date.now() - pending[0]!.sentAt : -1, fifos.inFlightFor());
  if (waited < STALL_MS || !processStopped(ownerLock.pid)) return;
  breakLock(data.path, ownerLock.content);
  link.destroy();
  link = undefined;
  fifos.retire();
  schedule(0);
}

// ----------------------------------------------------------------- caller

async function close(): Promise<void> {
  debug(`close: server ${server !== undefined} logger ${logger !== undefined}`);
  closing = true;
  if (retryTimer) clearTimeout(retryTimer);
  clearInterval(stallTimer);
  link?.destroy();
  link = undefined;
  fifos.retire();
  if (server) {
    // Acknowledgements already written must reach their clients, or they
    // would send those batches again to the next owner (a duplicate).
    const draining = server;
    server = undefined;
    await draining.drain(DRAIN_MS);
  }
  if (logger) stepDown();
  for (const batch of pending.splice(0)) {
    postError(batch.id, { code: 'ERR_LOGGER_CLOSED', message: `The logger for "${data.path}" is closed` });
    done(batch.id);
  }
  setRole(ROLE_CLOSED);
  parentPort!.close();
  reply.close();
}

forwardWarnings(reply);

const stallTimer = setInterval(checkStall, STALL_MS / 4);
stallTimer.unref();

/** A batch from our caller: commit it (owner) or send it (client); kept until done. */
function take(batch: Batch): void {
  pending.push(batch);
  if (logger) commitPending();
  else if (link) link.send(batch.id, batch.records, batch.frame);
}

parentPort!.on('message', (message: ToAgent) => {
  if (message.type === 'batch') take({ id: message.id, records: message.records, sentAt: Date.now() });
  else if (message.type === 'rotated') {
    // Sealed by our caller's direct commit (owner-path.ts): reported like ours.
    reply.postMessage({ type: 'rotate', value: message.backup });
    housekeeping?.rotated(message.backup);
  } else if (message.type === 'close') void close();
});

// Batches that fit come through the shared mailbox (mailbox.ts).
void watchMailbox(ctl, mailbox, () => closing, (batch) => take({ ...batch, sentAt: Date.now() }));

void attempt();
