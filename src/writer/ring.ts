/**
 * The commit ring: a queue of framed records in shared memory, after the
 * log's state (shared.ts), through which threads hand their records to
 * whichever thread holds the lock (flat combining, issue 13). In 'fsync'
 * each record used to be one write(2) and one fdatasync(2) under the lock;
 * now a thread that finds the lock taken (still, after a short spin) puts
 * its record in a slot here and waits, and
 * the holder writes every record waiting in one write(2) (and one
 * fdatasync(2)), then marks each slot done or failed and wakes its writer.
 * Each writer still returns only once its own record is handed to the OS.
 *
 * A slot goes FREE -> CLAIMED (a writer copies its records in) -> READY ->
 * TAKEN (by the lock holder, into its batch) -> DONE, FAILED or RETRY (the
 * writer reads the outcome) -> FREE. A READY slot goes back to FREE if its
 * writer withdraws it (the log closed). Outcomes carry COMMITTED, the bytes
 * of the slot that reached the file (a record boundary), and FAILED carries
 * the error, encoded in the slot's data (the writer still has its records).
 *
 * A holder that dies after taking slots leaves them TAKEN; the thread that
 * takes the lock over calls resolveOrphans() before recovering: the journal
 * of the chunk being written (its base size, and where each slot's bytes
 * sit in it) and the whole records in the file say exactly which records
 * landed, so every waiter learns the truth: DONE, or RETRY from COMMITTED.
 */

/** Slots: how many writers can wait at once; the rest wait for the lock itself. */
export const SLOT_COUNT = 32;
/** Framed bytes a slot holds; a larger commit takes the lock itself. */
export const SLOT_DATA_BYTES = 2048;

// Int32 words of a slot's header.
const STATE = 0;
const LEN = 1; // framed bytes in the slot
const WAKE = 2; // bumped on every change the writer may wait for (an event count)
const COMMITTED = 3; // bytes of the slot in the file
const AT = 4; // journal: where the slot's bytes start in the chunk being written
const FROM = 5; // journal: the slot's bytes [FROM, TO) are in that chunk
const TO = 6;
const IN_CHUNK = 7; // journal: 1 while the slot is in the chunk being written
const OWNER = 8; // the writer's thread token
const ERROR_BYTES = 9; // FAILED: bytes of the encoded error in the data
const SLEEPING = 10; // 1 while the writer sleeps on WAKE: only then is a notify worth its cost
/** One 64-byte line per header, so that slot headers start on separate lines. */
const HEADER_WORDS = 16;
const SLOT_BYTES = HEADER_WORDS * 4 + SLOT_DATA_BYTES;

// Int32 control words at the start of the ring, the hot ones (every commit
// touches them) in their own 128 bytes, apart from the journal and slots.
const PENDING = 0; // READY slots
const JOURNAL = 32; // 1 while a chunk with slots in it is being written
const CONTROL_WORDS = 34;
// Then one Float64: the size of the current file before the journaled chunk.
const JOURNAL_BASE_AT = CONTROL_WORDS * 4;
const SLOTS_AT = 192;

/** Bytes the ring takes after the state. */
export const RING_BYTES = SLOTS_AT + SLOT_COUNT * SLOT_BYTES;

export const FREE = 0;
export const CLAIMED = 1;
export const READY = 2;
export const TAKEN = 3;
export const DONE = 4;
export const FAILED = 5;
export const RETRY = 6;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class CommitRing {
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly #base: Float64Array;
  /** Where this thread starts looking for a free slot: threads spread out. */
  #hint: number;
  /** After outcome(): bytes of the slot's records in the file, from its start (a record boundary). */
  committed = 0;
  /** After outcome() gave FAILED: the error as the holder saw it. */
  error: Error | undefined;

  constructor(buffer: SharedArrayBuffer, offset: number, token: number) {
    this.i32 = new Int32Array(buffer, offset, RING_BYTES / 4);
    this.u8 = new Uint8Array(buffer, offset, RING_BYTES);
    this.#base = new Float64Array(buffer, offset + JOURNAL_BASE_AT, 1);
    this.#hint = Math.abs(token) % SLOT_COUNT;
  }

  /** Index in i32 of word `word` of slot `slot`. */
  #w(slot: number, word: number): number {
    return (SLOTS_AT + slot * SLOT_BYTES) / 4 + word;
  }

  #dataAt(slot: number): number {
    return SLOTS_AT + slot * SLOT_BYTES + HEADER_WORDS * 4;
  }

  /** Slots READY for the next holder. */
  get pending(): number {
    return Atomics.load(this.i32, PENDING);
  }

  /** Claim a free slot for this thread, or -1 if every slot is in use. */
  claim(token: number): number {
    const i32 = this.i32;
    for (let n = 0; n < SLOT_COUNT; n++) {
      const slot = (this.#hint + n) % SLOT_COUNT;
      if (Atomics.compareExchange(i32, this.#w(slot, STATE), FREE, CLAIMED) === FREE) {
        this.#hint = slot;
        Atomics.store(i32, this.#w(slot, OWNER), token);
        return slot;
      }
    }
    return -1;
  }

  /** Copy `buf[from, to)` (whole framed records, at most SLOT_DATA_BYTES) into a claimed slot and make it READY. */
  publish(slot: number, buf: Uint8Array, from: number, to: number): void {
    this.u8.set(buf.subarray(from, to), this.#dataAt(slot));
    const i32 = this.i32;
    i32[this.#w(slot, LEN)] = to - from;
    i32[this.#w(slot, COMMITTED)] = 0;
    i32[this.#w(slot, IN_CHUNK)] = 0;
    Atomics.store(i32, this.#w(slot, STATE), READY);
    Atomics.add(i32, PENDING, 1);
  }

  /** Spin up to `looks` loads of the slot's state while it stays READY or TAKEN. */
  quietSpin(slot: number, looks: number): void {
    const i32 = this.i32;
    const at = this.#w(slot, STATE);
    for (let n = 0; n < looks; n++) {
      const state = Atomics.load(i32, at);
      if (state !== READY && state !== TAKEN) return;
    }
  }

  state(slot: number): number {
    return Atomics.load(this.i32, this.#w(slot, STATE));
  }

  /** The event count of a slot: read it before looking at the slot, then wait on it. */
  ticket(slot: number): number {
    return Atomics.load(this.i32, this.#w(slot, WAKE));
  }

  /** Sleep until the slot's event count moves from `ticket`, or `ms` pass. */
  wait(slot: number, ticket: number, ms: number): 'ok' | 'not-equal' | 'timed-out' {
    const i32 = this.i32;
    Atomics.store(i32, this.#w(slot, SLEEPING), 1);
    try {
      return Atomics.wait(i32, this.#w(slot, WAKE), ticket, ms);
    } finally {
      Atomics.store(i32, this.#w(slot, SLEEPING), 0);
    }
  }

  /** Take a READY slot back (its writer gives up: the log closed). False if a holder took it first. */
  withdraw(slot: number): boolean {
    if (Atomics.compareExchange(this.i32, this.#w(slot, STATE), READY, FREE) !== READY) return false;
    Atomics.sub(this.i32, PENDING, 1);
    return true;
  }

  /** Under the lock: take every READY slot, in slot order, appending their indexes to `into`. */
  takeAll(into: number[]): void {
    const i32 = this.i32;
    if (Atomics.load(i32, PENDING) === 0) return;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      if (Atomics.compareExchange(i32, this.#w(slot, STATE), READY, TAKEN) === READY) {
        Atomics.sub(i32, PENDING, 1);
        into.push(slot);
      }
    }
  }

  /** The framed records of a TAKEN slot (a view into shared memory). */
  data(slot: number): Uint8Array {
    const at = this.#dataAt(slot);
    return this.u8.subarray(at, at + (this.i32[this.#w(slot, LEN)] as number));
  }

  /**
   * Under the lock, before writing a chunk at file size `base`: the slots
   * (the first `count` entries) whose bytes [from, to) sit at `at` in it, so that a thread taking the
   * lock over can tell which of them landed.
   */
  journal(base: number, entries: ReadonlyArray<{ slot: number; at: number; from: number; to: number }>, count: number): void {
    const i32 = this.i32;
    this.#base[0] = base;
    for (let n = 0; n < count; n++) {
      const { slot, at, from, to } = entries[n]!;
      i32[this.#w(slot, AT)] = at;
      i32[this.#w(slot, FROM)] = from;
      i32[this.#w(slot, TO)] = to;
      i32[this.#w(slot, IN_CHUNK)] = 1;
    }
    Atomics.store(i32, JOURNAL, 1);
  }

  /** Under the lock, after the chunk is in the file: each journaled slot's (the first `count` entries) bytes up to TO are committed; a slot wholly in is DONE. */
  chunkWritten(entries: ReadonlyArray<{ slot: number; to: number }>, count: number): void {
    const i32 = this.i32;
    for (let n = 0; n < count; n++) {
      const { slot, to } = entries[n]!;
      i32[this.#w(slot, COMMITTED)] = to;
      i32[this.#w(slot, IN_CHUNK)] = 0;
      if (to === i32[this.#w(slot, LEN)]) this.#finish(slot, DONE);
    }
    Atomics.store(i32, JOURNAL, 0);
  }

  /** Under the lock: a TAKEN slot failed with `error`, `committed` of its bytes being in the file. */
  fail(slot: number, committed: number, error: unknown): void {
    const i32 = this.i32;
    const e = error as Partial<NodeJS.ErrnoException>;
    const fields = { message: e.message ?? String(error), code: e.code, errno: e.errno, syscall: e.syscall, path: e.path };
    let bytes = encoder.encode(JSON.stringify(fields));
    if (bytes.length > SLOT_DATA_BYTES) bytes = encoder.encode(JSON.stringify({ ...fields, message: fields.message.slice(0, 512) }));
    this.u8.set(bytes, this.#dataAt(slot));
    i32[this.#w(slot, ERROR_BYTES)] = bytes.length;
    i32[this.#w(slot, COMMITTED)] = committed;
    i32[this.#w(slot, IN_CHUNK)] = 0;
    this.#finish(slot, FAILED);
  }

  /** Under the lock: end the journal after a failed chunk (its slots were failed one by one). */
  chunkFailed(): void {
    Atomics.store(this.i32, JOURNAL, 0);
  }

  #finish(slot: number, state: number): void {
    Atomics.store(this.i32, this.#w(slot, STATE), state);
    this.#wake(slot);
  }

  /**
   * Move the slot's event count on, and wake its writer if it sleeps. The
   * writer sets SLEEPING before it sleeps on the count and we read SLEEPING
   * after moving the count (both sequentially consistent), so either it sees
   * the new count and does not sleep, or we see it sleeping and notify.
   * Skipping the notify of a spinning writer saves V8's process-wide futex
   * lock on every record.
   */
  #wake(slot: number): void {
    const i32 = this.i32;
    Atomics.add(i32, this.#w(slot, WAKE), 1);
    if (Atomics.load(i32, this.#w(slot, SLEEPING)) === 1) Atomics.notify(i32, this.#w(slot, WAKE));
  }

  /**
   * The writer: the outcome of its slot (DONE, FAILED or RETRY), or 0 while
   * it is not through. Frees the slot once read; the outcome's committed
   * bytes and error are then in `committed` and `error` (no allocation on
   * the way of every record).
   */
  outcome(slot: number): number {
    const i32 = this.i32;
    const state = Atomics.load(i32, this.#w(slot, STATE));
    if (state !== DONE && state !== FAILED && state !== RETRY) return 0;
    this.committed = i32[this.#w(slot, COMMITTED)] as number;
    this.error = undefined;
    if (state === FAILED) {
      const at = this.#dataAt(slot);
      const text = decoder.decode(this.u8.slice(at, at + (i32[this.#w(slot, ERROR_BYTES)] as number)));
      const { message, ...rest } = JSON.parse(text) as { message: string };
      this.error = Object.assign(new Error(message), Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
    }
    Atomics.store(i32, this.#w(slot, STATE), FREE);
    return state;
  }

  /**
   * After the lock is released: wake the writer of one READY slot, so that
   * it takes the lock and writes what is waiting (a record may have been
   * queued after the holder's last look). Every READY slot if `all`.
   */
  wakeReady(all: boolean): void {
    const i32 = this.i32;
    if (Atomics.load(i32, PENDING) === 0) return;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      if (Atomics.load(i32, this.#w(slot, STATE)) !== READY) continue;
      this.#wake(slot);
      if (!all) return;
    }
  }

  /**
   * In a thread that took the lock over from a dead holder, before the
   * current file is recovered: settle every slot the dead holder took.
   * `wholeSize()` gives the bytes of whole records in the current file now
   * (asked only if a chunk was being written). Slots of dead writers that
   * nobody will read again are freed.
   */
  resolveOrphans(wholeSize: () => number, alive: (token: number) => boolean): void {
    const i32 = this.i32;
    const landed = Atomics.load(i32, JOURNAL) === 1 ? wholeSize() - (this.#base[0] as number) : 0;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const state = Atomics.load(i32, this.#w(slot, STATE));
      if (state === TAKEN) {
        if (i32[this.#w(slot, IN_CHUNK)] === 1) {
          const from = i32[this.#w(slot, FROM)] as number;
          const span = (i32[this.#w(slot, TO)] as number) - from;
          const at = i32[this.#w(slot, AT)] as number;
          i32[this.#w(slot, COMMITTED)] = from + Math.min(span, Math.max(0, landed - at));
          i32[this.#w(slot, IN_CHUNK)] = 0;
        }
        const done = i32[this.#w(slot, COMMITTED)] === i32[this.#w(slot, LEN)];
        this.#finish(slot, done ? DONE : RETRY);
      }
      const settled = Atomics.load(i32, this.#w(slot, STATE));
      if (settled !== FREE && settled !== READY && !alive(i32[this.#w(slot, OWNER)] as number)) {
        Atomics.store(i32, this.#w(slot, STATE), FREE);
      }
    }
    Atomics.store(i32, JOURNAL, 0);
  }
}
