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

/** Identity of a directory: device and inode, or undefined if it is not there. */
function identityOf(dir: string): string | undefined {
  try {
    const st = statSync(dir, { throwIfNoEntry: false });
    return st?.isDirectory() ? `${st.dev}:${st.ino}` : undefined;
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
    const identity = identityOf(this.dir);
    if (identity === undefined) {
      this.#closeDir();
      this.#parentWatcher ??= tryWatch(dirname(this.dir), this.#onChange, () => this.#closeParent());
      return 'missing';
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
