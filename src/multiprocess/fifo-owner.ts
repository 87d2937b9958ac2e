/**
 * The owner's side of a client's FIFO pair (see fifo-caller.ts for why the
 * pair exists): after the token check, a client's agent sends the paths of
 * two FIFOs it created in a private 0700 directory; the owner opens the
 * request FIFO's read end and the reply FIFO's write end, both
 * non-blocking, reads BATCH frames from the first in its event loop and
 * writes ACK and ERROR frames into the second. The batches join the same
 * group commit as the socket's (server.ts).
 *
 * What the owner accepts: two paths that are FIFOs (lstat before opening,
 * with O_NOFOLLOW, and fstat of the descriptor after: the same inode),
 * owned by this user or root, the only users who can read the token. A
 * client that names anything else gets `{ ok: false }` and nothing is
 * written to that path; its batches keep coming over the socket. Once
 * open, the owner unlinks both names and tries to remove their directory,
 * so a client killed right after sending the paths leaves nothing behind.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, rmdirSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { Socket } from 'node:net';
import { dirname, isAbsolute } from 'node:path';

/** Bytes read from a request FIFO at once, into one buffer reused for every read. */
const READ_BYTES = 64 * 1024;

/** An open pair, seen from the owner. */
export class OwnerFifo {
  readonly #request: number;
  readonly #reply: number;
  #requests: Socket | undefined;
  #closed = false;

  constructor(request: number, reply: number) {
    this.#request = request;
    this.#reply = reply;
  }

  /**
   * Read the request FIFO in this thread's event loop (libuv reads a FIFO
   * like a pipe: epoll, no thread), into one reused buffer (`onread`: no
   * stream machinery and no 64 KiB buffer allocated per read, which cost
   * the owner CPU on every client record); `data` gets a copy of what was
   * read, `end` is called once at EOF or on an error.
   */
  start(data: (chunk: Buffer) => void, end: () => void): void {
    const requests = new Socket({
      fd: this.#request,
      readable: true,
      writable: false,
      onread: { buffer: Buffer.allocUnsafe(READ_BYTES), callback: (n: number, buf: Uint8Array) => void data(Buffer.from(buf.subarray(0, n))) },
    } as ConstructorParameters<typeof Socket>[0]);
    requests.on('end', end);
    requests.on('close', end);
    requests.on('error', end);
    this.#requests = requests;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Write one small frame (ACK, ERROR) into the reply FIFO. The caller has
   * one batch in flight and reads its answer at once, so the pipe is empty
   * and the write whole (atomic up to PIPE_BUF); a client that leaves the
   * pipe full, or is gone, loses its pair (EAGAIN, EPIPE): false.
   */
  send(frame: Buffer): boolean {
    if (this.#closed) return false;
    try {
      if (writeSync(this.#reply, frame) === frame.length) return true;
    } catch {
      // EAGAIN, EPIPE: see above
    }
    this.close();
    return false;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#requests) this.#requests.destroy();
    else closeSync(this.#request);
    try {
      closeSync(this.#reply);
    } catch {
      // closed already
    }
  }
}

/** Open a client's pair, or say why not (nothing is written to either path then). */
export function openOwnerFifo(request: unknown, reply: unknown): OwnerFifo | string {
  if (typeof request !== 'string' || typeof reply !== 'string' || !isAbsolute(request) || !isAbsolute(reply) || request === reply) {
    return 'FIFO paths must be two absolute paths';
  }
  const opened: number[] = [];
  try {
    const req = openChecked(request, constants.O_RDONLY, opened);
    // A write end opens non-blocking only while a reader exists: the
    // client's agent holds one from creation (fifo-agent.ts).
    const rep = openChecked(reply, constants.O_WRONLY, opened);
    for (const p of [request, reply]) {
      try {
        unlinkSync(p);
      } catch {
        // the client removed it already
      }
    }
    try {
      rmdirSync(dirname(request));
    } catch {
      // not empty, or removed by the client
    }
    return new OwnerFifo(req, rep);
  } catch (err) {
    for (const fd of opened) closeSync(fd);
    return (err as Error).message;
  }
}

function openChecked(path: string, mode: number, opened: number[]): number {
  checkFifo(path, lstatSync(path));
  const fd = openSync(path, mode | constants.O_NONBLOCK | constants.O_NOFOLLOW | constants.O_NOCTTY);
  opened.push(fd);
  const st = fstatSync(fd);
  checkFifo(path, st);
  const named = lstatSync(path);
  if (named.ino !== st.ino || named.dev !== st.dev) throw new Error(`${path} was replaced while opening`);
  return fd;
}

function checkFifo(path: string, st: Stats): void {
  if (!st.isFIFO()) throw new Error(`${path} is not a FIFO`);
  const me = process.getuid?.() ?? 0;
  if (st.uid !== me && st.uid !== 0) throw new Error(`${path} belongs to uid ${st.uid}`);
}
