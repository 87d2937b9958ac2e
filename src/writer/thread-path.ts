/**
 * The commit path of threads (shared.ts): every thread that writes the log
 * holds its own O_APPEND descriptor of the current file and appends under
 * the lock in the log's SharedArrayBuffer, reopening the file when another
 * thread rolled over (the generation moved on). The thread that opened the
 * log (the owner) holds the lock file; rotations made by attached threads
 * reach it over a BroadcastChannel, for its events and compression.
 */
import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { fenced, isErrno, loggerClosed } from '../errors.js';
import { rolloverPoint } from '../read/records.js';
import { APPEND_FLAGS, READ_FLAGS, writeAll, withPath, type FsOps } from '../fsops.js';
import { lockStillHeld, releaseLock, takeLock, type HeldLock } from '../lockfile.js';
import { splitName } from '../naming.js';
import { scanWholeRecords } from '../read/cursor.js';
import { HANDLE_TAG, holderAlive, SharedState, threadToken, type LoggerHandle } from '../shared.js';
import type { ChunkObserver } from './batch.js';
import type { CommitPath, CommitPathRequest } from './commit-path.js';
import type { LogContext } from './context.js';
import type { CommitEvents, QueuedEvent } from './events.js';
import { FILE_MODE, tryClose } from './files.js';
import { isFsync, type Settings } from './options.js';
import { checkCurrentFile, recover } from './recover.js';
import { GroupCommit, type LockedLog } from './group-commit.js';
import { CommitRing } from './ring.js';
import { rollover, rolloverPaused } from './rollover.js';

/** What attach() passes from a share() handle: the shared state and the owner's channel. */
export interface ThreadAttachment {
  readonly state: SharedArrayBuffer;
  readonly channel: string;
}

export class ThreadCommitPath implements CommitPath, LogContext {
  readonly path: string;
  readonly fs: FsOps;
  readonly state: SharedState;
  readonly settings: Settings;
  readonly fsync: boolean;
  readonly owner: boolean;

  /** This thread's descriptor of the current file, or -1. Never shared. */
  #fd = -1;
  /** The shared generation #fd was opened at. */
  #gen = -1;
  #committed = 0;
  /** The owner's lock file, released by close(). */
  #lockFile: HeldLock | undefined;
  /** Check a lock file before each rollover step (a multi-process owner: CommitPathRequest.fencing). */
  readonly #fencing: CommitPathRequest['fencing'];
  /** Rotations reach the owner (events, compression) through this channel. */
  #channel: BroadcastChannel | undefined;
  readonly #channelName: string;
  #pending: QueuedEvent[] = [];
  readonly #events: CommitEvents;
  readonly #lockNote: string | undefined;
  /** The commit ring ('fsync' only), through which waiting threads hand their records to the holder. */
  readonly #ring: CommitRing | undefined;
  /** Commits through the ring, once the log is shared. */
  readonly #group: GroupCommit | undefined;
  /** 'sync': wait for the lock napping, so that a thread that keeps writing keeps it (SharedState.acquire). */
  readonly #naps: boolean;

  /**
   * Open the log (the owner: create the directory, take the lock file,
   * recover), or join another thread's (attach).
   */
  constructor({ path, settings, fs, events, attach, lockNote, fencing }: CommitPathRequest) {
    this.#lockNote = lockNote;
    this.#fencing = fencing;
    this.path = path;
    this.fs = fs;
    this.settings = settings;
    this.fsync = isFsync(settings.durability);
    this.#events = events;
    this.owner = attach === undefined;
    this.#channelName = attach?.channel ?? `binary-logger:${randomUUID()}`;
    // Combining only where the holder's commit is long ('fsync': an
    // fdatasync(2) of 0.3-2 ms). In 'sync' it measured slower on 2 cores
    // than the plain lock (issue 13, docs/ARCHITECTURE.md).
    this.state = new SharedState(attach?.state, settings.durability === 'fsync');
    const ringAt = this.state.ringOffset;
    this.#ring = ringAt >= 0 ? new CommitRing(this.state.buffer, ringAt, threadToken()) : undefined;
    this.#group = this.#ring && new GroupCommit(this.#ring, this.#locked());
    // Not in a multi-process owner (fenced): its agent commits for clients
    // that each wait on it, and a nap of ~100 us would land on their round trip.
    this.#naps = settings.durability === 'sync' && fencing === undefined;
    if (this.owner) this.#open();
    this.#channel = new BroadcastChannel(this.#channelName);
    this.#channel.unref();
    if (this.owner) {
      this.#channel.onmessage = (event) => {
        const message = (event as MessageEvent).data as { rotate?: unknown };
        if (typeof message?.rotate === 'string') this.#events.rotated(message.rotate);
      };
    }
  }

  #open(): void {
    const { fs, path } = this;
    try {
      fs.mkdirSync(splitName(path).dir, { recursive: true });
    } catch (err) {
      // A parent that is a file: let the open below fail naming the log.
      if (!isErrno(err, 'EEXIST') && !isErrno(err, 'ENOTDIR')) throw err;
    }
    // Fail on a path we cannot write (EISDIR, EACCES, ENOTDIR) with the
    // OS error naming the log, before anything is created beside it.
    fs.closeSync(fs.openSync(path, APPEND_FLAGS, FILE_MODE));
    this.#lockFile = takeLock(path, fs, this.#lockNote);
    try {
      recover(this);
    } catch (err) {
      releaseLock(this.#lockFile, fs);
      this.#lockFile = undefined;
      this.#closeFd();
      throw err;
    }
  }

  get fd(): number {
    return this.#fd;
  }

  /** The lock file this logger took (undefined in an attached thread, or once released). */
  get lock(): HeldLock | undefined {
    return this.#lockFile;
  }

  get committed(): number {
    return this.#committed;
  }

  get closed(): boolean {
    return this.state.closed;
  }

  share(): LoggerHandle {
    this.state.shared = true;
    return { tag: HANDLE_TAG, state: this.state.buffer, channel: this.#channelName, path: this.path, options: { ...this.settings } };
  }

  commit(buf: Uint8Array, end: number): void {
    this.#committed = 0;
    const group = this.#group;
    if (group?.takes(end)) return group.commit(buf, end);
    this.#lock();
    try {
      this.#commitLocked(buf, 0, end);
      // Records queued in the ring meanwhile go before the lock does.
      if (this.state.shared) group?.drain();
    } finally {
      this.#unlock();
    }
  }

  /** What group commit (group-commit.ts) reaches of this path under the lock. */
  #locked(): LockedLog {
    const self = this; // the committed accessors below reach the private field
    return {
      path: this.path,
      state: this.state,
      get committed() {
        return self.#committed;
      },
      set committed(n: number) {
        self.#committed = n;
      },
      enter: (orphaned) => this.#afterAcquire(orphaned),
      lock: () => this.#lock(),
      unlock: () => this.#unlock(),
      append: (buf, from, end, chunks) => this.#commitLocked(buf, from, end, chunks),
    };
  }

  /**
   * Under the lock: append `buf[from, end)`, splitting at each record that
   * makes the current file reach maxFileSize and rolling over there. If a
   * write fails, cuts the partial record off and throws, with #committed at
   * the bytes written before it. `chunks` hears of each chunk written.
   */
  #commitLocked(buf: Uint8Array, from: number, end: number, chunks?: ChunkObserver): void {
    const st = this.state;
    const limit = this.settings.maxFileSize;
    let pos = from;
    this.#committed = pos;
    while (pos < end) {
      const base = st.size;
      let stop = end;
      if (!rolloverPaused(this)) {
        const cut = rolloverPoint(buf, pos, end, base, limit);
        if (cut >= 0) stop = cut;
      }
      const fd = this.#fd;
      chunks?.before(pos, stop, base);
      try {
        writeAll(this.fs, fd, buf, pos, stop - pos);
        if (this.fsync) this.fs.fdatasyncSync(fd);
      } catch (err) {
        this.#cutTo(fd, base, err);
        throw withPath(err, this.path);
      }
      st.size = base + (stop - pos);
      chunks?.after(stop);
      pos = stop;
      // Before the rollover: a fenced one throws, and these bytes are in.
      this.#committed = pos;
      if (st.size >= limit) rollover(this);
    }
  }

  /**
   * A write failed part-way: cut the file back to its last whole record so
   * no partial record is left behind. If even that fails, the log cannot
   * take more records safely: close it for every thread.
   */
  #cutTo(fd: number, size: number, cause: unknown): void {
    try {
      this.fs.ftruncateSync(fd, size);
    } catch {
      this.state.markClosed();
      this.#closeFd();
      this.queue({ kind: 'error', error: withPath(cause, this.path) });
    }
  }

  /**
   * Take the log's lock, recovering first if the last holder died. Throws
   * ERR_LOGGER_CLOSED (lock released) if the owner closed the log. Callers
   * release with `this.#unlock()` in a finally.
   */
  #lock(evenIfClosed = false): void {
    this.#afterAcquire(this.state.acquire(this.#naps), evenIfClosed);
  }

  /** Just after taking the lock: bring this thread up to date with the log (see #lock). */
  #afterAcquire(orphaned: boolean, evenIfClosed = false): void {
    const st = this.state;
    try {
      if (st.closed) {
        if (evenIfClosed) return;
        this.#closeFd();
        throw loggerClosed(this.path);
      }
      if (orphaned) {
        // Settle the dead holder's batch before recovery cuts or rolls anything.
        this.#ring?.resolveOrphans(() => this.#wholeSize(), holderAlive);
        recover(this);
      } else if (this.#gen !== st.generation) this.#reopen();
      if (!evenIfClosed && Date.now() >= st.checkAt) checkCurrentFile(this);
    } catch (err) {
      this.#unlock();
      throw err;
    }
  }

  /** Release the lock, and wake a writer waiting in the ring (all of them once the log is closed). */
  #unlock(): void {
    const st = this.state;
    st.release();
    if (st.shared) this.#ring?.wakeReady(st.closed);
  }

  /** Bytes of whole records in the current file at the path (0 if it cannot be read). */
  #wholeSize(): number {
    const { fs, path } = this;
    let fd = -1;
    try {
      fd = fs.openSync(path, READ_FLAGS);
      return scanWholeRecords(fs, fd, fs.fstatSync(fd).size).end;
    } catch {
      return 0;
    } finally {
      if (fd >= 0) tryClose(fs, fd);
    }
  }

  useFd(fd: number, size: number): void {
    this.#closeFd();
    this.#fd = fd;
    this.state.size = size;
    this.#gen = this.state.nextGeneration();
  }

  /** Under the lock: reopen the current file that another thread made. */
  #reopen(): void {
    this.#closeFd();
    this.#fd = this.fs.openSync(this.path, APPEND_FLAGS, FILE_MODE);
    this.#gen = this.state.generation;
  }

  #closeFd(): void {
    if (this.#fd >= 0) tryClose(this.fs, this.#fd);
    this.#fd = -1;
    this.#gen = -1;
  }

  fence(): void {
    if (this.#fencing === undefined) return;
    const lock = this.#fencing === 'own' ? this.#lockFile : this.#fencing;
    if (!(lock && lockStillHeld(lock.path, lock.stamp))) throw fenced(this.path);
  }

  queue(event: QueuedEvent): void {
    this.#pending.push(event);
  }

  drainEvents(): void {
    if (this.#pending.length === 0) return; // the common case, once per commit
    for (let event = this.#pending.shift(); event !== undefined; event = this.#pending.shift()) {
      if (event.kind === 'error') {
        this.#events.failed(event.error);
        continue;
      }
      this.#events.rotated(event.backup);
      // The owner compresses and emits for every thread's rotations.
      if (!this.owner) this.#channel?.postMessage({ rotate: event.backup });
    }
  }

  close(): void {
    if (this.owner) {
      this.#lock(true);
      try {
        this.state.markClosed();
      } finally {
        this.#unlock();
      }
    }
    this.#closeFd();
    if (this.#lockFile) releaseLock(this.#lockFile, this.fs);
    this.#lockFile = undefined;
    this.#channel?.close();
    this.#channel = undefined;
  }
}
