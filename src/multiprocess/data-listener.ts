/**
 * A client's data socket (intake.ts says why it exists): the client listens
 * on a fresh socket of its own, names it and a random nonce in its HELLO,
 * and the owner, once the client's token checked out, connects to it and
 * presents the nonce as its first frame. Batches then go over that
 * connection, which the owner reads into a reused buffer.
 *
 * Only the owner learns the nonce (it travels on the connection the client
 * opened to the socket named in the 0600 lock file), so a stranger who
 * connects to the listener first gets nothing: a first frame without the
 * nonce closes its connection, and the listener waits on. The listener
 * closes once the owner's connection is taken. On Linux the name is in the
 * abstract namespace (released by the kernel); elsewhere a path socket in
 * the temp directory, removed when the listener closes.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameType, FrameReader, HELLO_TIMEOUT_MS, parseJson } from './protocol.js';
import { removeSocket } from './rendezvous.js';

/** What a HELLO carries to ask the owner for a data connection. */
export interface DataOffer {
  socket: string;
  nonce: string;
}

/** The largest first frame a data connection may send (a HELLO with the nonce). */
const MAX_NONCE_FRAME_BYTES = 256;

export class DataListener {
  readonly offer: DataOffer;
  readonly #server: Server;
  readonly #nonce: Buffer;
  #closed = false;

  /** Listen; `ready` once listening (or failed: then send without a data socket), `taken` with the owner's connection. */
  constructor(hooks: { ready(ok: boolean): void; taken(socket: Socket): void }) {
    const nonce = randomBytes(16).toString('hex');
    const name = `binlog-data-${process.pid}-${nonce.slice(0, 8)}`;
    this.offer = { socket: process.platform === 'linux' ? `\0${name}` : join(tmpdir(), `${name}.sock`), nonce };
    this.#nonce = Buffer.from(nonce, 'utf8');
    this.#server = createServer((socket) => this.#check(socket, hooks.taken));
    this.#server.once('error', () => hooks.ready(false));
    // exclusive: in a node:cluster worker, listen() would otherwise ask the primary for a shared handle.
    this.#server.listen({ path: this.offer.socket, exclusive: true }, () => hooks.ready(!this.#closed));
  }

  /** Stop listening (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    removeSocket(this.offer.socket);
  }

  #check(socket: Socket, taken: (socket: Socket) => void): void {
    const reader = new FrameReader(MAX_NONCE_FRAME_BYTES);
    const timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS).unref();
    const refuse = (): void => void socket.destroy();
    socket.on('error', refuse);
    socket.on('close', () => clearTimeout(timer));
    const onData = (data: Buffer): void => {
      let frames;
      try {
        frames = reader.push(data);
      } catch {
        refuse();
        return;
      }
      const first = frames[0];
      if (!first) return;
      const hello = first.type === FrameType.HELLO ? parseJson(first) : undefined;
      const nonce = typeof hello?.nonce === 'string' ? Buffer.from(hello.nonce, 'utf8') : undefined;
      if (this.#closed || frames.length > 1 || !nonce || nonce.length !== this.#nonce.length || !timingSafeEqual(nonce, this.#nonce)) {
        refuse();
        return;
      }
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', refuse);
      this.close();
      taken(socket);
    };
    socket.on('data', onData);
  }
}
