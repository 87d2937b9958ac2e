/** binlog write: stdin lines (or NUL-separated items) appended as records. */
import { BinaryLogger } from '../../index.js';
import { durability, logArg, maxSize } from '../args.js';
import { defineCommand, EXIT_OK, UsageError } from '../command.js';

/** `binlog write`: stdin lines (or NUL-separated items) appended to a log as records. */
export const write = defineCommand({
  name: 'write',
  synopsis: 'write <log> --max-size N [--null] [--durability MODE]',
  summary: 'append stdin lines (or NUL-separated items) as records',
  help: `Append each line of standard input to the log as one record, without its
newline. A last line without a newline is a record too; an empty line is an
empty record. Bytes are stored as they come (not decoded or re-encoded).
Input is streamed, so it works at the end of any pipeline:
  printf 'a\\nb\\n' | binlog write logs/events.bin --max-size 1048576
  find . -print0 | binlog write logs/files.bin --max-size 1048576 --null

Options:
  --max-size N          roll over once the current file reaches N bytes
                        (maxFileSize; required)
  -0, --null            items are separated by NUL bytes, not newlines
  --durability MODE     when records are safe: sync, buffered, fsync or
                        buffered-fsync (default buffered: written in large
                        chunks, all of them by the time binlog exits)
  -h, --help            show this help

Exit status: 0 every item written; 1 an error (the log is in use by another
logger, the disk is full, ...); 2 usage error.`,
  options: {
    'max-size': { type: 'string' },
    null: { type: 'boolean', short: '0' },
    durability: { type: 'string' },
  },
  async run(values, positionals) {
    const path = logArg(positionals);
    if (values['max-size'] === undefined) throw new UsageError('--max-size N is required (the size in bytes at which the current file rolls over)');
    const maxFileSize = maxSize(values['max-size'], 0);
    const mode = durability(values.durability, 'buffered');
    const separator = values.null ? 0x00 : 0x0a;
    const logger = new BinaryLogger(path, { maxFileSize, durability: mode });
    try {
      for await (const item of splitItems(process.stdin, separator)) logger.write(item);
    } finally {
      logger.close();
    }
    return EXIT_OK;
  },
});

/**
 * The items of a byte stream, each without its separator; a last item
 * without one counts too. An item inside one chunk is a view of it, not a
 * copy.
 */
export async function* splitItems(input: AsyncIterable<Buffer>, separator: number): AsyncGenerator<Buffer> {
  // Bytes of an item not yet ended by a separator, kept as the chunks they came in.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of input) {
    let start = 0;
    for (let at = chunk.indexOf(separator); at >= 0; at = chunk.indexOf(separator, start)) {
      const piece = chunk.subarray(start, at);
      if (pendingBytes === 0) {
        yield piece;
      } else {
        pending.push(piece);
        yield Buffer.concat(pending, pendingBytes + piece.length);
        pending = [];
        pendingBytes = 0;
      }
      start = at + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}
