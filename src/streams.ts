/**
 * Node streams over a log, so that stream.pipeline() works with it:
 * an object-mode Readable of records, and an object-mode Writable that
 * writes each chunk as one record.
 */
import { Readable, Writable } from 'node:stream';
import { invalidArgType } from './errors.js';
import { follow, type FollowOptions } from './follow.js';
import { readLog, type ReadLogOptions } from './reader.js';
import { BinaryLogger, type BinaryLoggerOptions } from './writer.js';

export interface ReadStreamOptions extends ReadLogOptions {
  /** Keep following the log (see follow()) instead of ending at its end. Defaults to false. */
  follow?: boolean;
  /** With `follow`: start at the oldest record, not at the end. Defaults to true here, as a read stream reads the whole log. */
  fromStart?: boolean;
  /** With `follow`: stops the stream (it is destroyed with an AbortError). */
  signal?: AbortSignal;
  /** With `follow`: see FollowOptions.pollInterval. */
  pollInterval?: number;
  /** Records buffered ahead of the consumer. Defaults to 1024. */
  highWaterMark?: number;
}

/**
 * An object-mode Readable of the log's records (strings, Buffers with
 * `encoding: 'buffer'`, or entries with `withPositions`), oldest first. With
 * `follow: true` it goes on yielding records as they are appended.
 *
 * @example
 * ```ts
 * await pipeline(createReadStream('./logs/events.bin'), toNdjson, process.stdout);
 * ```
 */
export function createReadStream(filePath: string | URL, options: ReadStreamOptions = {}): Readable {
  const { follow: live = false, fromStart = true, signal, pollInterval, highWaterMark = 1024, ...read } = options;
  const source = live
    ? follow(filePath, { ...read, fromStart, signal, pollInterval } as FollowOptions)
    : readLog(filePath, read);
  return Readable.from(source as AsyncIterable<unknown> | Iterable<unknown>, { objectMode: true, highWaterMark });
}

export interface WriteStreamOptions {
  /** Records buffered in the stream before write() returns false. Defaults to 1024. */
  highWaterMark?: number;
}

/**
 * An object-mode Writable that writes each chunk (a string or Uint8Array)
 * as one record. Given a path and logger options, the stream owns a logger
 * and closes it when the stream finishes or is destroyed; given a logger,
 * it flushes it when finished and leaves it open.
 *
 * @example
 * ```ts
 * await pipeline(lines, createWriteStream('./logs/events.bin', { maxFileSize: 1 << 20 }));
 * ```
 */
export function createWriteStream(target: BinaryLogger, options?: WriteStreamOptions): Writable;
export function createWriteStream(target: string | URL, options: BinaryLoggerOptions & WriteStreamOptions): Writable;
export function createWriteStream(target: BinaryLogger | string | URL, options: Partial<BinaryLoggerOptions> & WriteStreamOptions = {}): Writable {
  const { highWaterMark = 1024, ...loggerOptions } = options;
  const owned = !(target instanceof BinaryLogger);
  if (owned && typeof target !== 'string' && !(target instanceof URL)) {
    throw invalidArgType('target', 'a BinaryLogger, a string or an instance of URL', target);
  }
  const logger = owned ? new BinaryLogger(target as string | URL, loggerOptions as BinaryLoggerOptions) : (target as BinaryLogger);
  return new Writable({
    objectMode: true,
    highWaterMark,
    write(chunk: unknown, _encoding, callback) {
      try {
        logger.write(chunk as string | Uint8Array);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    writev(chunks, callback) {
      try {
        for (const { chunk } of chunks) logger.write(chunk as string | Uint8Array);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    final(callback) {
      try {
        if (owned) logger.close();
        else logger.flush();
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    destroy(err, callback) {
      if (owned) {
        try {
          logger.close();
        } catch (closeErr) {
          return callback(err ?? (closeErr as Error));
        }
      }
      callback(err);
    },
  });
}
