/**
 * A client process's connection to the owner, in its agent thread: the
 * handshake, batches out, acknowledgements and errors back. Whatever ends
 * the connection (the owner died, closed, or refused us) is reported once,
 * through `lost`, and the agent decides what comes next.
 */
import { connect, type Socket } from 'node:net';
import { FrameType, FrameReader, batchHead, jsonFrame, parseAck, parseJson, type Frame } from './protocol.js';
import type { OwnerNote } from './rendezvous.js';

export interface LinkHooks {
  /** The owner took our token and options. */
  welcome(ownerPid: number): void;
  /** Batch `id` and every batch before it is in the file. */
  ack(id: number): void;
  /** The owner refused batch `id` (an OS error), or us (id -1: options differ). */
  error(message: Record<string, unknown>): void;
  /** An answer to a FrameType.STATUS request. */
  status?(message: Record<string, unknown>): void;
  /** The owner's answer to our FIFO pair (offerFifo). */
  fifo?(message: Record<string, unknown>): void;
  /** The connection is gone (`reason` for diagnostics); called once. */
  lost(reason: string): void;
}

export class ClientLink {
  readonly #socket: Socket;
  readonly #hooks: LinkHooks;
  readonly #reader = new FrameReader();
  #ended = false;

  constructor(note: OwnerNote, hello: Record<string, unknown>, hooks: LinkHooks) {
    this.#hooks = hooks;
    const socket = connect(note.socket);
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(jsonFrame(FrameType.HELLO, { ...hello, token: note.token })));
    socket.on('data', (data: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.#reader.push(data);
      } catch (err) {
        this.#end(`owner sent garbage: ${(err as Error).message}`);
        return;
      }
      for (const frame of frames) if (!this.#ended) this.#frame(frame);
    });
    socket.on('error', (err) => this.#end((err as NodeJS.ErrnoException).code ?? err.message));
    socket.on('close', () => this.#end('closed'));
  }

  /** Send one batch of framed records; `frame`, if given, is the whole BATCH frame (one write). */
  send(id: number, records: Uint8Array, frame?: Uint8Array): void {
    if (this.#ended) return;
    if (frame) {
      this.#socket.write(frame);
      return;
    }
    this.#socket.cork();
    this.#socket.write(batchHead(id, records.byteLength));
    this.#socket.write(records);
    this.#socket.uncork();
  }

  /** Offer the owner a FIFO pair for our caller's batches (fifo-agent.ts); the answer comes through `fifo`. */
  offerFifo(paths: { request: string; reply: string }): void {
    if (!this.#ended) this.#socket.write(jsonFrame(FrameType.FIFO, paths));
  }

  /** Ask the owner how many clients it has (the answer comes through `status`). */
  askStatus(): void {
    if (!this.#ended) this.#socket.write(jsonFrame(FrameType.STATUS, {}));
  }

  /** Drop the connection without reporting it as lost. */
  destroy(): void {
    this.#ended = true;
    this.#socket.destroy();
  }

  #frame(frame: Frame): void {
    if (frame.type === FrameType.ACK) {
      const ack = parseAck(frame.body);
      if (ack) this.#hooks.ack(ack.id);
      return;
    }
    const message = parseJson(frame) ?? {};
    if (frame.type === FrameType.WELCOME) this.#hooks.welcome(Number(message.pid));
    else if (frame.type === FrameType.ERROR) this.#hooks.error(message);
    else if (frame.type === FrameType.STATUS) this.#hooks.status?.(message);
    else if (frame.type === FrameType.FIFO) this.#hooks.fifo?.(message);
  }

  #end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#socket.destroy();
    this.#hooks.lost(reason);
  }
}
