/**
 * The owner's side of the socket: accepts client processes, checks their
 * token and options, and commits their batches through the owner's logger,
 * acknowledging each batch once its records are handed to the OS (and
 * synced, in the fsync modes). Runs in the owner's agent thread.
 *
 * Group commit: the batches that arrive from any number of clients in one
 * turn of the event loop (one poll phase) are committed together, with one
 * fencing check and one write(2), just after that phase (setImmediate: no
 * timer, no waiting), and each is acknowledged once its records are handed
 * to the OS, as before.
 *
 * A connection that does not present the token in its first frame within
 * HELLO_TIMEOUT_MS, sends a frame the protocol does not allow, or a batch
 * whose records are not whole, is closed without writing anything of it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { ERR_FENCED } from '../errors.js';
import { FrameType, FrameReader, HELLO_TIMEOUT_MS, ackFrame, jsonFrame, parseBatch, parseJson, type Frame } from './protocol.js';
import { ERR_LOGGER_OPTIONS_MISMATCH, shapeDifferences, type FileShape } from './shape.js';
import { removeSocket, type OwnerNote } from './rendezvous.js';
import { openOwnerFifo, type OwnerFifo } from './fifo-owner.js';
import { FrameAssembler, openDataChannel } from './intake.js';

export interface ServerHooks {
  /** Commit whole framed records; throws the OS error (with `written` bytes) or an ERR_FENCED error. */
  commit(records: Buffer): void;
  /** A connection was refused (bad token, garbage); for tests and diagnostics. */
  refused?(reason: string): void;
}

interface Conn {
  socket: Socket;
  reader: FrameReader;
  authed: boolean;
  client: boolean;
  /** Answers to the batches that came on the socket (or the data socket). */
  reply: Replier;
  /** The client's FIFO pair, if it offered one (fifo-owner.ts). */
  fifo?: OwnerFifo | undefined;
  /** Our connection to the client's data socket, if it offered one (intake.ts). */
  data?: Socket | undefined;
}

/** Where a batch's answer goes: the socket it came on, or the reply FIFO. */
interface Replier {
  readonly gone: boolean;
  send(frame: Buffer): void;
}

/** A batch received and not yet committed. */
interface Received {
  reply: Replier;
  /** The data socket's assembler the records are a view into, if they came that way. */
  intake?: FrameAssembler | undefined;
  id: number;
  count: number;
  records: Buffer;
}

/**
 * Batches are merged into one write up to this many bytes (a copy each);
 * a larger one (a buffered client's staging buffer) is committed alone.
 */
const GROUP_BYTES = 256 * 1024;

export class OwnerServer {
  readonly #note: OwnerNote;
  readonly #shape: FileShape;
  readonly #hooks: ServerHooks;
  readonly #server: Server;
  readonly #conns = new Set<Conn>();
  readonly #token: Buffer;
  /** Set by close() and drain(): nothing more is committed or acknowledged. */
  #closing = false;
  /** Batches received in this turn of the event loop, in arrival order. */
  #received: Received[] = [];

  constructor(note: OwnerNote, shape: FileShape, hooks: ServerHooks) {
    this.#note = note;
    this.#shape = shape;
    this.#hooks = hooks;
    this.#token = Buffer.from(note.token, 'utf8');
    this.#server = createServer((socket) => this.#accept(socket));
  }

  /** Start listening on the note's socket. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      // exclusive: in a node:cluster worker, listen() would otherwise ask the
      // primary for a shared handle (and wait forever in our agent thread).
      this.#server.listen({ path: this.#note.socket, exclusive: true }, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  /** Client processes connected now (not counting `logOwner()` probes). */
  get clients(): number {
    let n = 0;
    for (const c of this.#conns) if (c.client) n++;
    return n;
  }

  /**
   * Stop listening and drop every connection at once, unanswered: their
   * unacknowledged batches go to the next owner. For a fenced owner, which
   * must not commit or acknowledge anything more.
   */
  close(): void {
    this.#closing = true;
    this.#server.close();
    for (const c of this.#conns) (c.socket.destroy(), c.fifo?.close(), c.data?.destroy());
    this.#conns.clear();
    removeSocket(this.#note.socket);
  }

  /**
   * Stop committing, and end every connection once the acknowledgements
   * already written have left (at most `ms`), so that no client sends a
   * committed batch again to the next owner. Resolves when done.
   */
  drain(ms: number): Promise<void> {
    this.#closing = true;
    this.#server.close();
    removeSocket(this.#note.socket);
    const ends = [...this.#conns].map(
      (c) =>
        new Promise<void>((resolve) => {
          c.socket.once('close', () => resolve());
          c.socket.end();
          c.data?.end();
        }),
    );
    const timer = new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
    // The reply FIFOs' acknowledgements are in their pipes already (written synchronously).
    for (const c of this.#conns) c.fifo?.close();
    return Promise.race([Promise.all(ends).then(() => undefined), timer]).then(() => {
      for (const c of this.#conns) (c.socket.destroy(), c.data?.destroy());
      this.#conns.clear();
    });
  }

  #accept(socket: Socket): void {
    const reply: Replier = { get gone() { return socket.destroyed; }, send: (f) => socket.write(f) };
    const conn: Conn = { socket, reader: new FrameReader(), authed: false, client: false, reply };
    this.#conns.add(conn);
    socket.setNoDelay(true);
    const timer = setTimeout(() => this.#refuse(conn, 'no HELLO in time'), HELLO_TIMEOUT_MS);
    timer.unref();
    socket.on('data', (data: Buffer) => {
      let frames: Frame[];
      try {
        frames = conn.reader.push(data);
      } catch (err) {
        this.#refuse(conn, (err as Error).message);
        return;
      }
      for (const frame of frames) {
        if (socket.destroyed) return;
        if (!conn.authed) {
          clearTimeout(timer);
          this.#hello(conn, frame);
        } else this.#frame(conn, frame);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(timer);
      conn.fifo?.close();
      conn.data?.destroy();
      this.#conns.delete(conn);
    });
  }

  #refuse(conn: Conn, reason: string): void {
    conn.socket.destroy();
    conn.fifo?.close();
    conn.data?.destroy();
    this.#conns.delete(conn);
    this.#hooks.refused?.(reason);
  }

  #hello(conn: Conn, frame: Frame): void {
    const hello = frame.type === FrameType.HELLO ? parseJson(frame) : undefined;
    const token = typeof hello?.token === 'string' ? Buffer.from(hello.token, 'utf8') : undefined;
    if (!hello || !token || token.length !== this.#token.length || !timingSafeEqual(token, this.#token)) {
      this.#refuse(conn, 'bad or missing token');
      return;
    }
    if (hello.role === 'monitor') {
      conn.authed = true;
      conn.socket.write(jsonFrame(FrameType.WELCOME, { pid: process.pid }));
      return;
    }
    const differences = shapeDifferences(hello.options, this.#shape);
    if (differences.length > 0) {
      conn.socket.end(jsonFrame(FrameType.ERROR, { id: -1, code: ERR_LOGGER_OPTIONS_MISMATCH, differences, pid: process.pid }));
      this.#conns.delete(conn);
      return;
    }
    conn.authed = true;
    conn.client = true;
    const offer = hello.data as { socket?: unknown; nonce?: unknown } | undefined;
    if (typeof offer?.socket === 'string' && typeof offer.nonce === 'string') this.#openData(conn, offer.socket, offer.nonce);
    else conn.socket.write(jsonFrame(FrameType.WELCOME, { pid: process.pid }));
  }

  /**
   * Connect to the client's data socket (its token checked), then welcome it:
   * its batches come over that connection, read into a reused buffer
   * (intake.ts). Any trouble there ends the client's connection too.
   */
  #openData(conn: Conn, socketName: string, nonce: string): void {
    const intake = new FrameAssembler();
    conn.data = openDataChannel(socketName, nonce, intake, {
      connected: () => conn.socket.write(jsonFrame(FrameType.WELCOME, { pid: process.pid })),
      // Each frame is queued (and its bytes released after the commit) or ends the connection.
      frames: (frames) => {
        for (const frame of frames) {
          if (conn.socket.destroyed) return;
          if (frame.type === FrameType.BATCH) this.#batch(conn, frame, conn.reply, intake);
          else this.#refuse(conn, `frame type ${frame.type} on a data socket`);
        }
      },
      refused: (err) => this.#refuse(conn, err.message),
      closed: () => conn.socket.destroy(),
    });
  }

  #frame(conn: Conn, frame: Frame): void {
    if (frame.type === FrameType.STATUS) {
      conn.socket.write(jsonFrame(FrameType.STATUS, { pid: process.pid, clients: this.clients }));
      return;
    }
    if (frame.type === FrameType.FIFO && conn.client && conn.fifo === undefined) {
      this.#openFifo(conn, parseJson(frame));
      return;
    }
    this.#batch(conn, frame, conn.reply);
  }

  /**
   * A BATCH frame from `conn` (on its socket, its request FIFO or its data
   * socket): queued for this turn's group commit. A frame from a data socket
   * is a view into its `intake`, released once committed.
   */
  #batch(conn: Conn, frame: Frame, reply: Replier, intake?: FrameAssembler): void {
    if (this.#closing) return;
    const batch = frame.type === FrameType.BATCH && conn.client ? parseBatch(frame.body) : undefined;
    if (!batch) {
      this.#refuse(conn, frame.type === FrameType.BATCH ? 'a batch whose records are not whole' : `frame type ${frame.type}`);
      return;
    }
    if (this.#received.push({ reply, intake, ...batch }) === 1) setImmediate(() => this.#commitReceived());
  }

  /** Take the client's FIFO pair, or tell it no: its batches keep coming over the socket. */
  #openFifo(conn: Conn, paths: Record<string, unknown> | undefined): void {
    const fifo = openOwnerFifo(paths?.request, paths?.reply);
    if (typeof fifo === 'string') {
      this.#hooks.refused?.(`FIFO pair: ${fifo}`);
      conn.socket.write(jsonFrame(FrameType.FIFO, { ok: false, reason: fifo }));
      return;
    }
    conn.fifo = fifo;
    const reader = new FrameReader();
    const reply: Replier = { get gone() { return fifo.closed; }, send: (f) => fifo.send(f) };
    // EOF: the client process is gone (its agent holds a write end while it lives).
    fifo.start(
      (data) => {
        let frames: Frame[];
        try {
          frames = reader.push(data);
        } catch (err) {
          this.#refuse(conn, `request FIFO: ${(err as Error).message}`);
          return;
        }
        for (const f of frames) if (!fifo.closed) this.#batch(conn, f, reply);
      },
      () => fifo.close(),
    );
    conn.socket.write(jsonFrame(FrameType.FIFO, { ok: true }));
  }

  /** Commit what arrived in this turn, merged into as few writes as GROUP_BYTES allows, then acknowledge. */
  #commitReceived(): void {
    const received = this.#received;
    this.#received = [];
    for (let i = 0; i < received.length && !this.#closing; ) {
      let bytes = received[i]!.records.length;
      let j = i + 1;
      while (j < received.length && bytes + received[j]!.records.length <= GROUP_BYTES) bytes += received[j++]!.records.length;
      this.#commitGroup(received.slice(i, j), bytes);
      i = j;
    }
    // Committed (or dropped, closing): the intakes may reuse those bytes.
    for (const { intake } of received) intake?.release();
  }

  #commitGroup(group: Received[], bytes: number): void {
    const records = group.length === 1 ? group[0]!.records : Buffer.concat(group.map((r) => r.records), bytes);
    let written = bytes;
    let failure: (NodeJS.ErrnoException & { written?: number }) | undefined;
    try {
      this.#hooks.commit(records);
    } catch (err) {
      failure = err as NodeJS.ErrnoException & { written?: number };
      if (failure.code === ERR_FENCED) {
        this.close();
        return;
      }
      written = failure.written ?? 0;
    }
    // Each batch wholly written is acknowledged; the one the failure cut and
    // those after it get the error with the bytes of theirs that did land.
    let offset = 0;
    for (const { reply, id, count, records: mine } of group) {
      const end = offset + mine.length;
      if (reply.gone) {
        // The client is gone: nobody to tell.
      } else if (end <= written) reply.send(ackFrame(id, count));
      else {
        const e = failure!;
        const own = Math.max(0, written - offset);
        reply.send(jsonFrame(FrameType.ERROR, { id, code: e.code ?? 'BINLOG_ERROR', message: e.message, syscall: e.syscall, path: e.path, written: own }));
      }
      offset = end;
    }
  }
}

