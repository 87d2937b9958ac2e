/**
 * openCursor(): the record cursor as a public, zero-copy API (issue 13):
 * every record of a log, oldest first, as a view into one reused buffer,
 * with the torn-tail and corruption rules of readLog().
 */
import { CorruptLogError } from '../errors.js';
import { toPath } from '../validate.js';
import { requireLog, takeSnapshot } from './snapshot.js';
import { checkPosition, logFiles, type OpenFile, type Position } from './walk.js';

export interface CursorOpenOptions {
  /** Start at this record (a position from an earlier read). Defaults to the oldest record. */
  from?: Position;
}

/**
 * A cursor over every record of a log. Step with next(); read the current
 * record's `length`, `position`, and (only if you need it) payload(). The
 * payload is a view into a buffer the cursor reuses: valid until the next
 * call to next(); copy it (`Buffer.from(view)`) to keep it. Memory stays
 * at one window (1 MiB, or the largest record) whatever the log holds.
 */
export class LogCursor implements Disposable {
  #files: Generator<OpenFile>;
  #open: OpenFile | undefined;

  /** @internal use openCursor() */
  constructor(path: string, from: Position | undefined) {
    this.#files = logFiles(path, false, from);
  }

  /**
   * Step to the next record. False at the end of the log (a torn tail of
   * the current file is its end: a write in progress).
   *
   * @throws CorruptLogError `ERR_LOG_CORRUPT` (path, offset, reason) where
   *   a file is corrupt, after the records before it, as readLog() throws.
   */
  next(): boolean {
    for (;;) {
      if (!this.#open) {
        const step = this.#files.next(); // applies the policy to the file before: may throw
        if (step.done) return false;
        this.#open = step.value;
      }
      if (this.#open.cursor.next()) return true;
      this.#open = undefined;
    }
  }

  /** Payload bytes of the current record (without reading them). */
  get length(): number {
    return this.#current().cursor.length;
  }

  /** Where the current record starts (resume from it with `from`). */
  get position(): Position {
    const { file, cursor } = this.#current();
    return { seq: file.seq, offset: cursor.offset };
  }

  /** Where the record after the current one starts. */
  get nextPosition(): Position {
    const { file, cursor } = this.#current();
    return { seq: file.seq, offset: cursor.nextOffset };
  }

  /**
   * The current record's payload: a view valid until the next call to
   * next(). Read from the file only when asked.
   *
   * @throws CorruptLogError `'torn-tail'` if another program cut the file
   *   under the cursor before the end of this payload.
   */
  payload(): Buffer {
    const { file, cursor } = this.#current();
    if (!cursor.load()) throw new CorruptLogError(file.path, cursor.offset, 'torn-tail', 'the file was cut under the reader');
    return cursor.buf.subarray(cursor.payloadStart, cursor.payloadEnd);
  }

  /** Close the open file. The cursor ends; next() returns false. */
  close(): void {
    this.#open = undefined;
    this.#files.return(undefined);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #current(): OpenFile {
    if (!this.#open) throw new Error('no current record: call next() first, and only while it returns true');
    return this.#open;
  }
}

/**
 * Open a zero-copy cursor over the log whose current file is `filePath`:
 * backups in numeric order of seq, then the current file. For consumers
 * that count, scan or copy records at the speed of the disk: nothing is
 * allocated per record.
 *
 * @throws Error `ENOENT` (`syscall: 'open'`, `path`) when there is neither
 *   a current file nor a backup; TypeError `ERR_INVALID_ARG_TYPE` for a
 *   bad `from`.
 * @example
 * ```ts
 * using cursor = openCursor('./logs/events.bin');
 * let records = 0;
 * let bytes = 0;
 * while (cursor.next()) {
 *   records++;
 *   bytes += cursor.length; // the payload is not even read
 *   if (records === 1) console.log(cursor.payload().toString()); // a view: copy it to keep it
 * }
 * ```
 */
export function openCursor(filePath: string | URL, options: CursorOpenOptions = {}): LogCursor {
  const path = toPath(filePath);
  const from = checkPosition(options.from);
  requireLog(path, takeSnapshot(path));
  return new LogCursor(path, from);
}
