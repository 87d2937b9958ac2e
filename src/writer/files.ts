/** Small file-system helpers the writer's parts share. */
import type { FsOps } from '../fsops.js';

/** Mode of every file the writer creates (before the umask), as Node's default. */
export const FILE_MODE = 0o666;

/** Close `fd`, ignoring EBADF: cleanup must not hide the error that caused it. */
export function tryClose(fs: FsOps, fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // EBADF: already closed
  }
}

/** Unlink `path`, ignoring ENOENT and the like: cleanup of what may not exist. */
export function tryUnlink(fs: FsOps, path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // ENOENT: already gone
  }
}
