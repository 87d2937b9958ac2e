/**
 * stdout for the commands: records and text in chunks, with backpressure,
 * and a reader that goes away (`binlog cat log | head`) ending the output
 * quietly. Plus the small formatting helpers every command's text uses.
 */
import { isAbsolute, relative } from 'node:path';
import { HEADER_BYTES } from '../index.js';
import { writeHeader } from '../format.js';

/** How records are printed: as text, as JSON lines, or as the log's own records. */
export type Format = 'text' | 'json' | 'raw';

/** Output is written in chunks of about this many bytes. */
const OUTPUT_CHUNK_BYTES = 64 * 1024;

const NEWLINE = Buffer.from('\n');

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * stdout, written in chunks with backpressure. A reader that goes away
 * (EPIPE) ends the output quietly: `closed` turns true and the command
 * stops; any other write error is thrown by end().
 */
export class Output {
  closed = false;
  #parts: Buffer[] = [];
  #bytes = 0;
  #error: Error | undefined;
  readonly #stream: NodeJS.WriteStream;

  constructor(stream: NodeJS.WriteStream) {
    this.#stream = stream;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      this.closed = true;
      if (err.code !== 'EPIPE') this.#error ??= err;
    });
  }

  /** Print one record in `format`. */
  async record(payload: Buffer, format: Format): Promise<void> {
    if (format === 'raw') {
      const header = Buffer.allocUnsafe(HEADER_BYTES);
      writeHeader(header, 0, payload.length);
      this.#push(header);
      this.#push(payload);
    } else if (format === 'json') {
      let json: string;
      try {
        json = JSON.stringify(utf8.decode(payload));
      } catch {
        json = JSON.stringify({ base64: payload.toString('base64') });
      }
      this.#push(Buffer.from(`${json}\n`));
    } else {
      this.#push(payload);
      this.#push(NEWLINE);
    }
    if (this.#bytes >= OUTPUT_CHUNK_BYTES) await this.flush();
  }

  /** Print text as it is. */
  async text(s: string): Promise<void> {
    this.#push(Buffer.from(s));
    if (this.#bytes >= OUTPUT_CHUNK_BYTES) await this.flush();
  }

  /** Write what is buffered; wait while the reader is behind. */
  async flush(): Promise<void> {
    if (this.#bytes === 0) return;
    const chunk = this.#parts.length === 1 && this.#parts[0] ? this.#parts[0] : Buffer.concat(this.#parts, this.#bytes);
    this.#parts = [];
    this.#bytes = 0;
    const stream = this.#stream;
    if (this.closed || stream.destroyed) {
      this.closed = true;
      return;
    }
    if (!stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          stream.off('drain', done);
          stream.off('error', done);
          stream.off('close', done);
          resolve();
        };
        stream.on('drain', done);
        stream.on('error', done);
        stream.on('close', done);
        if (stream.destroyed) done();
      });
    }
  }

  /** Flush, then throw the write error, if there was one other than EPIPE. */
  async end(): Promise<void> {
    await this.flush();
    if (this.#error) throw this.#error;
  }

  #push(b: Buffer): void {
    if (this.closed) return;
    this.#parts.push(b);
    this.#bytes += b.length;
  }
}

/** A path as the user would type it: relative to the working directory when under it. */
export function show(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** `1 file`, `2 files`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One decimal place at most: 23.5, 19. */
export function round(x: number): string {
  return String(Math.round(x * 10) / 10);
}

/**
 * `text` with each of `paths` (files a library message names, resolved
 * by the library) as the user would type it. Longest first: a side file's path
 * starts with its file's.
 */
export function shownPaths(text: string, paths: Array<string | undefined>): string {
  const known = paths.filter((p): p is string => p !== undefined).sort((a, b) => b.length - a.length);
  return known.reduce((t, p) => t.replaceAll(p, show(p)), text);
}
