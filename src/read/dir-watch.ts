/**
 * A watch on the directory of a log that outlives the directory: when it is
 * removed, the parent is watched until it is back; when it is back (a new
 * directory, a new inode), the new one is watched. follow() wakes on these
 * events instead of falling back to its poll (issue 13).
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { isErrno } from '../errors.js';

/** What check() found: the same directory, none, or a new one at the same path. */
export type DirState = 'same' | 'missing' | 'replaced';

/**
 * Identity of a directory: device, inode and birth time, or undefined if it
 * is not there. The birth time tells a recreated directory from the old one
 * when the file system hands it the freed inode number (ext4 does); where
 * there is no birth time it is 0 and the inode alone decides.
 */
function identityOf(dir: string): string | undefined {
  try {
    const st = statSync(dir, { throwIfNoEntry: false, bigint: true });
    return st?.isDirectory() ? `${st.dev}:${st.ino}:${st.birthtimeNs}` : undefined;
  } catch {
    return undefined;
  }
}

/** Watch a directory where the platform can; polling covers the rest. */
function tryWatch(dir: string, onChange: () => void, onError: () => void): FSWatcher | undefined {
  try {
    const watcher = watch(dir, { persistent: false }, onChange);
    watcher.on('error', onError);
    return watcher;
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOSPC') || isErrno(err, 'EMFILE') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
}

/** See the module comment. Call check() before each wait. */
export class DirWatch {
  readonly dir: string;
  #onChange: () => void;
  #identity: string | undefined;
  #watcher: FSWatcher | undefined;
  #parentWatcher: FSWatcher | undefined;

  constructor(dir: string, onChange: () => void) {
    this.dir = dir;
    this.#onChange = onChange;
    this.#identity = identityOf(dir);
    this.check();
  }

  /** Look at the directory again and watch what is there now. */
  check(): DirState {
    let identity = identityOf(this.dir);
    if (identity === undefined) {
      this.#closeDir();
      this.#parentWatcher ??= tryWatch(dirname(this.dir), this.#onChange, () => this.#closeParent());
      // Look again now that the parent is watched: a directory made in
      // between would otherwise wait for the poll.
      identity = identityOf(this.dir);
      if (identity === undefined) return 'missing';
    }
    this.#closeParent();
    const replaced = identity !== this.#identity;
    if (replaced) {
      this.#closeDir();
      this.#identity = identity;
    }
    this.#watcher ??= tryWatch(this.dir, this.#onChange, () => {
      // The watched directory went away (or the watch failed): look again.
      this.#closeDir();
      this.#onChange();
    });
    return replaced ? 'replaced' : 'same';
  }

  close(): void {
    this.#closeDir();
    this.#closeParent();
  }

  #closeDir(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #closeParent(): void {
    this.#parentWatcher?.close();
    this.#parentWatcher = undefined;
  }
}
