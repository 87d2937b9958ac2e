/**
 * A client process's connection to the owner, in its agent thread: the
 * handshake, batches out, acknowledgements and errors back. Whatever ends
 * the connection (the owner died, closed, or refused us) is reported once,
 * through `lost`, and the agent decides what comes next.
 *
 * A client (not a monitor) offers the owner a data socket of its own in its
 * HELLO and sends its batches over the owner's connection to it, so that
 * the owner reads them into a reused buffer (intake.ts); acknowledgements
 * and errors come back on the first connection. Either closing ends both.
 */
import { Socket } from 'node:net';
import { DataListener, type DataOffer } from './data-listener.js';
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
  /** Our data socket's listener, until the owner connects to it (data-listener.ts); none for a monitor. */
  #listener: DataListener | undefined;
  /** The owner's connection to our data socket: batches go there. */
  #data: Socket | undefined;
  /** The owner's pid from WELCOME, kept until the data socket is there too. */
  #welcomePid: number | undefined;
  #ended = false;

  constructor(note: OwnerNote, hello: Record<string, unknown>, hooks: LinkHooks) {
    this.#hooks = hooks;
    const socket = new Socket();
    this.#socket = socket;
    const start = (offer?: DataOffer): void => {
      if (this.#ended) return;
      socket.connect(note.socket);
      socket.setNoDelay(true);
      socket.on('connect', () => socket.write(jsonFrame(FrameType.HELLO, { ...hello, token: note.token, data: offer })));
    };
    if (hello.role === 'monitor') start();
    else {
      const listener = new DataListener({
        // A listener that fails (it should not) leaves batches on this connection, as the owner allows.
        ready: (ok) => {
          if (!ok) this.#listener = undefined;
          start(ok ? listener.offer : undefined);
        },
        taken: (data) => this.#takeData(data),
      });
      this.#listener = listener;
    }
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
    const socket = this.#data ?? this.#socket;
    if (frame) {
      socket.write(frame);
      return;
    }
    socket.cork();
    socket.write(batchHead(id, records.byteLength));
    socket.write(records);
    socket.uncork();
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
    this.#close();
  }

  #close(): void {
    this.#listener?.close();
    this.#data?.destroy();
    this.#socket.destroy();
  }

  /** The owner connected to our data socket: welcome once WELCOME is here too. */
  #takeData(data: Socket): void {
    if (this.#ended) {
      data.destroy();
      return;
    }
    this.#data = data;
    this.#listener = undefined;
    data.setNoDelay(true);
    data.on('error', (err) => this.#end(`data socket: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    data.on('close', () => this.#end('data socket closed'));
    if (this.#welcomePid !== undefined) this.#hooks.welcome(this.#welcomePid);
  }

  #frame(frame: Frame): void {
    if (frame.type === FrameType.ACK) {
      const ack = parseAck(frame.body);
      if (ack) this.#hooks.ack(ack.id);
      return;
    }
    const message = parseJson(frame) ?? {};
    if (frame.type === FrameType.WELCOME) {
      this.#welcomePid = Number(message.pid);
      // With a data socket offered, batches wait for the owner to connect to it.
      if (this.#data || !this.#listener) this.#hooks.welcome(this.#welcomePid);
    } else if (frame.type === FrameType.ERROR) this.#hooks.error(message);
    else if (frame.type === FrameType.STATUS) this.#hooks.status?.(message);
    else if (frame.type === FrameType.FIFO) this.#hooks.fifo?.(message);
  }

  #end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#close();
    this.#hooks.lost(reason);
  }
}
