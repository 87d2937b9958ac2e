/**
 * The file-system calls the writer, the readers and repair make, routed
 * through one small object so that tests can make any of them fail (as
 * Node's fs streams take `options.fs`). Every call is synchronous: a write() returns only after
 * its record is handed to the OS.
 */
import * as fs from 'node:fs';

export interface FsOps {
  openSync(path: string, flags: number, mode?: number): number;
  closeSync(fd: number): void;
  writeSync(fd: number, buf: Uint8Array, offset: number, length: number): number;
  writevSync(fd: number, bufs: Uint8Array[]): number;
  readSync(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  fstatSync(fd: number): fs.Stats;
  statSync(path: string): fs.Stats | undefined;
  ftruncateSync(fd: number, len: number): void;
  fdatasyncSync(fd: number): void;
  fsyncSync(fd: number): void;
  linkSync(existing: string, newPath: string): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  mkdirSync(path: string, options: { recursive: true }): void;
  /** The names in a directory (listing backups). */
  readdirSync(path: string): string[];
}

export const nodeFs: FsOps = {
  openSync: (path, flags, mode) => fs.openSync(path, flags, mode),
  closeSync: (fd) => fs.closeSync(fd),
  writeSync: (fd, buf, offset, length) => fs.writeSync(fd, buf, offset, length),
  writevSync: (fd, bufs) => fs.writevSync(fd, bufs),
  readSync: (fd, buf, offset, length, position) => fs.readSync(fd, buf, offset, length, position),
  fstatSync: (fd) => fs.fstatSync(fd),
  statSync: (path) => fs.statSync(path, { throwIfNoEntry: false }),
  ftruncateSync: (fd, len) => fs.ftruncateSync(fd, len),
  fdatasyncSync: (fd) => fs.fdatasyncSync(fd),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  linkSync: (existing, newPath) => fs.linkSync(existing, newPath),
  renameSync: (from, to) => fs.renameSync(from, to),
  unlinkSync: (path) => fs.unlinkSync(path),
  mkdirSync: (path, options) => {
    fs.mkdirSync(path, options);
  },
  readdirSync: (path) => fs.readdirSync(path),
};

const { O_APPEND, O_CREAT, O_RDWR, O_TRUNC, O_RDONLY, O_DIRECTORY, O_WRONLY, O_EXCL } = fs.constants;

/** The current file: read (to find a torn tail) and append. */
export const APPEND_FLAGS = O_RDWR | O_APPEND | O_CREAT;
/** The empty file a rollover prepares. */
export const FRESH_FLAGS = O_RDWR | O_APPEND | O_CREAT | O_TRUNC;
export const DIR_FLAGS = O_RDONLY | (O_DIRECTORY ?? 0);
/** A file of the log, opened to read it. */
export const READ_FLAGS = O_RDONLY;
/** A file of the log that repair cuts back. */
export const READ_WRITE_FLAGS = O_RDWR;
/** A side file repair creates: never replaces an existing one. */
export const CREATE_NEW_FLAGS = O_WRONLY | O_CREAT | O_EXCL;

/** Write all of `buf[offset, offset+length)`, however many calls it takes. */
export function writeAll(ops: FsOps, fd: number, buf: Uint8Array, offset: number, length: number): void {
  while (length > 0) {
    const n = ops.writeSync(fd, buf, offset, length);
    offset += n;
    length -= n;
  }
}

/**
 * Copy bytes [start, end) of file `from` to the end of file `to`, in chunks
 * of at most `chunkBytes`, then fsync `to`: a side file that keeps bytes
 * before they leave a log (repair; the writer's torn-tail cut).
 */
export function copyRangeSynced(ops: FsOps, from: number, to: number, start: number, end: number, chunkBytes: number): void {
  const chunk = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, end - start)));
  for (let pos = start; pos < end; ) {
    const got = ops.readSync(from, chunk, 0, Math.min(chunk.length, end - pos), pos);
    if (got === 0) break;
    writeAll(ops, to, chunk, 0, got);
    pos += got;
  }
  ops.fsyncSync(to);
}

/** Attach the path to an OS error raised by a call that names none (write, fsync). */
export function withPath<E>(err: E, path: string): E {
  if (err instanceof Error) {
    const e = err as NodeJS.ErrnoException;
    if (e.code && e.path === undefined) {
      e.path = path;
      e.message += ` '${path}'`;
    }
  }
  return err;
}
