/**
 * follow(): the records of a log as they are appended, across rollovers,
 * like `tail -F`.
 *
 * It keeps a position (seq, offset) and reads from it again whenever the
 * directory changes (fs.watch) or `pollInterval` ms pass. Positions stay
 * valid across rollover (the current file's seq is the one it will have as
 * a backup), so when the current file is sealed the follower finishes that
 * backup from where it was, then goes on in the new current file: no record
 * is missed or yielded twice. A torn tail of the current file is a write in
 * progress: the follower waits for the rest.
 *
 * If the log's directory is removed, the follower waits for it to come
 * back (watching its parent); a directory recreated at the same path holds
 * a new log, which it follows from its oldest record.
 */
import { listBackups, nextSeq, splitName } from './naming.js';
import { DirWatch } from './read/dir-watch.js';
import { requireLog, takeSnapshot } from './read/snapshot.js';
import { entryOf, type LogEntry, type Position, type ReadResult } from './reader.js';
import { checkPosition, logFiles } from './read/walk.js';
import { oneOf, optionalBoolean, optionalNonNegativeInteger, toPath } from './validate.js';

export interface FollowOptions {
  /** Stops the iteration: the pending next() rejects with an AbortError, as Node's own async iterators do. */
  signal?: AbortSignal;
  /** Start at the oldest record of the log. Defaults to false: only records appended from now on. */
  fromStart?: boolean;
  /** Start at this position (from an earlier readLog or follow with withPositions). Wins over fromStart. */
  from?: Position;
  /** `'utf8'` yields strings, `'buffer'` raw bytes. Defaults to `'utf8'`. */
  encoding?: 'utf8' | 'buffer';
  /** Yield {@link LogEntry} objects (payload, position, next). Defaults to false. */
  withPositions?: boolean;
  /** Longest wait between looks at the log when no change is signalled, in ms. Defaults to 100. */
  pollInterval?: number;
  /**
   * Wait for a log that does not exist yet (as `tail -F` waits for a file)
   * and follow it from its first record, instead of throwing ENOENT.
   * Defaults to false: a path with no log is an error, so a typo is not
   * followed forever.
   */
  waitForLog?: boolean;
}

/** Where the log ends now: just past the last whole record of the current file. */
function endPosition(path: string): Position {
  let end: Position = { seq: nextSeq(listBackups(path)), offset: 0 };
  for (const { file, cursor } of logFiles(path, false, end)) {
    let offset = 0;
    // Skip to the end of whole records without reading their payloads.
    while (cursor.next()) offset = cursor.nextOffset;
    end = { seq: file.seq, offset };
  }
  return end;
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}

/**
 * Follow the log whose current file is `filePath`: yield each record as it
 * is appended, across rollovers, until `signal` aborts.
 *
 * @throws Error `ENOENT` (`syscall: 'open'`, `path`) at once when there is
 *   neither a current file nor a backup (unless `waitForLog`); CorruptLogError `ERR_LOG_CORRUPT`
 *   as readLog() throws it.
 * @example
 * ```ts
 * const ac = new AbortController();
 * for await (const record of follow('./logs/events.bin', { signal: ac.signal })) console.log(record);
 * ```
 */
export function follow<O extends FollowOptions = {}>(filePath: string | URL, options?: O): AsyncIterableIterator<ReadResult<O>>;
export function follow(filePath: string | URL, options: FollowOptions = {}): AsyncIterableIterator<unknown> {
  const path = toPath(filePath);
  const raw = oneOf(options.encoding, 'encoding', ['utf8', 'buffer'] as const, 'utf8') === 'buffer';
  const withPositions = optionalBoolean(options.withPositions, 'withPositions', false);
  const fromStart = optionalBoolean(options.fromStart, 'fromStart', false);
  const pollInterval = optionalNonNegativeInteger(options.pollInterval, 'pollInterval') ?? 100;
  const from = checkPosition(options.from);
  const waitForLog = optionalBoolean(options.waitForLog, 'waitForLog', false);
  const snapshot = takeSnapshot(path);
  // A log that does not exist yet is followed from its first record, whenever it appears.
  const absent = snapshot.current === undefined && snapshot.backups.length === 0;
  if (!waitForLog) requireLog(path, snapshot);
  const start = from ?? (fromStart || absent ? { seq: 0, offset: 0 } : undefined);
  return run(path, options.signal, start, raw, withPositions, pollInterval);
}

async function* run(
  path: string,
  signal: AbortSignal | undefined,
  from: Position | undefined,
  raw: boolean,
  withPositions: boolean,
  pollInterval: number,
): AsyncGenerator<string | Buffer | LogEntry<string | Buffer>, void, undefined> {
  if (signal?.aborted) throw abortError(signal);
  let position = from ?? endPosition(path);
  let changed = true;
  let wake: (() => void) | undefined;
  const onChange = (): void => {
    changed = true;
    wake?.();
  };
  const watcher = new DirWatch(splitName(path).dir, onChange);
  signal?.addEventListener('abort', onChange);
  try {
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      changed = false;
      const dir = watcher.check();
      // A new directory at the path holds a new log: follow it from its start.
      if (dir === 'replaced') position = { seq: 0, offset: 0 };
      let progressed = false;
      for (const open of dir === 'missing' ? [] : logFiles(path, raw, position)) {
        while (open.cursor.next()) {
          if (!open.cursor.load()) continue;
          const entry = entryOf(open, raw);
          position = entry.next;
          progressed = true;
          yield withPositions ? entry : entry.payload;
          if (signal?.aborted) throw abortError(signal);
        }
      }
      if (progressed || changed) continue;
      // Nothing new: wait for the directory to change, or the poll.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollInterval);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        if (changed || signal?.aborted) wake();
      });
      wake = undefined;
    }
  } finally {
    signal?.removeEventListener('abort', onChange);
    watcher.close();
  }
}
