/**
 * A combined batch (issue 13, group commit): the lock holder's own records
 * followed by the records of the commit ring's READY slots (ring.ts), copied
 * back to back into one buffer so that one write(2) takes them all. The
 * commit path writes it like any framed buffer, split at the rollover
 * points; the batch tells the ring, chunk by chunk, which slots are in the
 * chunk being written (the journal) and which are now in the file, and on a
 * failure which writers get the error.
 */
import type { CommitRing } from './ring.js';
import { SLOT_COUNT, SLOT_DATA_BYTES } from './ring.js';

/** What a commit path tells a batch as it writes it. */
export interface ChunkObserver {
  /** `buf[pos, stop)` is about to be written at file size `base`. */
  before(pos: number, stop: number, base: number): void;
  /** ... and is now in the file (fdatasync'd in the fsync modes). */
  after(stop: number): void;
}

interface Entry {
  slot: number;
  at: number;
  from: number;
  to: number;
}

export class Batch implements ChunkObserver {
  /** The own records and then each taken slot's, back to back. */
  readonly buf: Buffer = Buffer.allocUnsafeSlow((SLOT_COUNT + 1) * SLOT_DATA_BYTES);
  /** Bytes in buf. */
  end = 0;
  /** Bytes of the holder's own records at the start. */
  own = 0;
  /** The taken slots and where each one's records start in buf (starts[i] for slots[i]); buf ends at `end`. */
  readonly slots: number[] = [];
  readonly #starts: number[] = [];
  /** The journal entries of the chunk being written: the first #inChunk of #entries, reused. */
  readonly #entries: Entry[] = Array.from({ length: SLOT_COUNT }, () => ({ slot: 0, at: 0, from: 0, to: 0 }));
  #inChunk = 0;
  #ring: CommitRing | undefined;

  /**
   * Start a batch: `own[from, to)` (at most SLOT_DATA_BYTES) first, then
   * every READY slot of `ring`, taken (the lock is held).
   */
  fill(ring: CommitRing, own: Uint8Array, from: number, to: number): void {
    this.#ring = ring;
    this.slots.length = 0;
    this.#starts.length = 0;
    this.buf.set(own.subarray(from, to), 0);
    this.own = to - from;
    let end = this.own;
    ring.takeAll(this.slots);
    for (const slot of this.slots) {
      const data = ring.data(slot);
      this.#starts.push(end);
      this.buf.set(data, end);
      end += data.length;
    }
    this.end = end;
  }

  #slotEnd(i: number): number {
    return this.#starts[i + 1] ?? this.end;
  }

  before(pos: number, stop: number, base: number): void {
    let n = 0;
    for (let i = 0; i < this.slots.length; i++) {
      const start = this.#starts[i] as number;
      const end = this.#slotEnd(i);
      if (end <= pos || start >= stop) continue;
      const lo = Math.max(start, pos);
      const entry = this.#entries[n++] as Entry;
      entry.slot = this.slots[i] as number;
      entry.at = lo - pos;
      entry.from = lo - start;
      entry.to = Math.min(end, stop) - start;
    }
    this.#inChunk = n;
    if (n > 0) this.#ring?.journal(base, this.#entries, n);
  }

  after(): void {
    if (this.#inChunk > 0) this.#ring?.chunkWritten(this.#entries, this.#inChunk);
    this.#inChunk = 0;
  }

  /**
   * The write at batch byte `committed` failed (everything before it is in
   * the file, a record boundary): every slot not wholly in gets `error`
   * with the bytes of it that are. Returns the holder's own bytes in.
   */
  failed(committed: number, error: unknown): number {
    const ring = this.#ring;
    for (let i = 0; i < this.slots.length; i++) {
      const start = this.#starts[i] as number;
      const end = this.#slotEnd(i);
      if (end <= committed) continue; // DONE already, by after()
      ring?.fail(this.slots[i] as number, Math.max(0, committed - start), error);
    }
    if (this.#inChunk > 0) ring?.chunkFailed();
    this.#inChunk = 0;
    return Math.min(committed, this.own);
  }
}
