/**
 * The owner's receive path for a client's batches, without a Buffer per read
 * (issue 11, item 5: peak RSS per process under 100 MB).
 *
 * Why: a socket Node accepted allocates a new 64 KiB Buffer for every read,
 * outside V8's heap. The owner's agent thread allocates almost nothing on
 * its heap, so V8 rarely collects there, and those Buffers (and the
 * `Buffer.concat` of every frame that spans reads) piled up to 30-35 MB of
 * garbage before a collection: the owner serving clients peaked 20-30 MB
 * above an owner alone. Only a socket made by connect() can read into a
 * buffer of ours (`onread`), so the client listens on a socket of its own
 * and the owner connects to it (link.ts, data-listener.ts); every read lands
 * in one owner-wide READ buffer and is copied at once into the connection's
 * FrameAssembler, which is reused from batch to batch.
 */
import { connect, type Socket } from 'node:net';
import { HEADER_BYTES, readHeader } from '../format.js';
import { FrameType, MAX_FRAME_BYTES, ProtocolError, jsonFrame, type Frame } from './protocol.js';

/** Bytes of the one read buffer the owner's data channels share. */
export const READ_BUFFER_BYTES = 64 * 1024;
/** An assembler starts this big and grows to the largest frame its client sends (a buffered client's staging buffer). */
const INITIAL_ASSEMBLY_BYTES = 64 * 1024;
/** Above this, an emptied assembler goes back to INITIAL_ASSEMBLY_BYTES (one huge record must not stay resident). */
const KEEP_ASSEMBLY_BYTES = 4 * 1024 * 1024;

/**
 * Cuts a byte stream into frames, copying the bytes into one buffer that is
 * reused. The frames returned are views into it, valid until release().
 * Refuses (throws ProtocolError) an empty frame or one over `maxFrame`
 * bytes as soon as its length is read, before buffering it.
 */
export class FrameAssembler {
  #buf = Buffer.allocUnsafe(INITIAL_ASSEMBLY_BYTES);
  /** Where the first frame not yet returned starts. */
  #start = 0;
  /** Where the bytes received end. */
  #end = 0;
  /** Frames returned and not yet released: the bytes before #start must stay. */
  #held = false;
  readonly #maxFrame: number;

  constructor(maxFrame = MAX_FRAME_BYTES) {
    this.#maxFrame = maxFrame;
  }

  /** Bytes held now (for tests: that it is bounded). */
  get capacity(): number {
    return this.#buf.length;
  }

  /** Copy `chunk` in; returns the whole frames now available. */
  push(chunk: Uint8Array): Frame[] {
    this.#room(chunk.length);
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
    const frames: Frame[] = [];
    while (this.#end - this.#start >= HEADER_BYTES) {
      const length = readHeader(this.#buf, this.#start);
      if (length === 0 || length > this.#maxFrame) throw new ProtocolError(`frame of ${length} bytes refused`);
      const frameEnd = this.#start + HEADER_BYTES + length;
      if (frameEnd > this.#end) {
        // Make room for the whole frame now, so that it is copied once.
        this.#room(frameEnd - this.#end);
        break;
      }
      frames.push({ type: this.#buf[this.#start + HEADER_BYTES]!, body: this.#buf.subarray(this.#start + HEADER_BYTES + 1, frameEnd) });
      this.#held = true;
      this.#start = frameEnd;
    }
    return frames;
  }

  /** The frames returned so far are done with (committed): their bytes may be overwritten. */
  release(): void {
    this.#held = false;
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      if (this.#buf.length > KEEP_ASSEMBLY_BYTES) this.#buf = Buffer.allocUnsafe(INITIAL_ASSEMBLY_BYTES);
    }
  }

  /** Make room for `more` bytes after #end, moving the partial frame to the front when nothing is held. */
  #room(more: number): void {
    if (this.#end + more <= this.#buf.length) return;
    const partial = this.#end - this.#start;
    if (!this.#held && partial + more <= this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      // Frames still held keep the old buffer alive until they are released.
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.#buf.length, partial + more));
      this.#buf.copy(bigger, 0, this.#start, this.#end);
      this.#buf = bigger;
    }
    this.#start = 0;
    this.#end = partial;
  }
}

/** The owner-wide read buffer: each read is copied out of it before the next. */
let readBuffer: Buffer | undefined;

/**
 * Connect to the data socket a client announced in its HELLO (only after its
 * token was checked), present its nonce, and deliver its frames. Reads go
 * into the shared read buffer (`onread`): no Buffer per read.
 *
 * @param frames called with the frames of each read (views valid until `assembler.release()`); a throw (ProtocolError) is the caller's to handle
 */
export function openDataChannel(
  socketName: string,
  nonce: string,
  assembler: FrameAssembler,
  hooks: { connected(): void; frames(frames: Frame[]): void; refused(err: Error): void; closed(): void },
): Socket {
  readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const socket = connect({
    path: socketName,
    onread: {
      buffer: readBuffer,
      callback: (bytes: number, buf: Uint8Array): boolean => {
        let frames: Frame[];
        try {
          frames = assembler.push(buf.subarray(0, bytes));
        } catch (err) {
          hooks.refused(err as Error);
          return false;
        }
        if (frames.length > 0) hooks.frames(frames);
        return true;
      },
    },
  });
  socket.setNoDelay(true);
  socket.on('connect', () => {
    socket.write(jsonFrame(FrameType.HELLO, { nonce }));
    hooks.connected();
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => hooks.closed());
  return socket;
}
