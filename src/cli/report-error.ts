/**
 * An error that ends a command, in binlog's words on stderr, and the exit
 * status it means. Corruption is told apart by CorruptLogError's `reason`,
 * never by parsing its message.
 */
import { CorruptLogError } from '../index.js';
import { EXIT_PROBLEM, EXIT_USAGE, Failure, UsageError } from './command.js';
import { show, shownPaths } from './output.js';

const CORRUPT_HINT = "('binlog verify' lists every problem, 'binlog repair' fixes what it can)";

/** Print `err` for command `name` on stderr; return the exit status. */
export function reportError(name: string, err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`binlog ${name}: ${err.message}; try 'binlog ${name} --help'\n`);
    return EXIT_USAGE;
  }
  if (err instanceof Failure) {
    process.stderr.write(`binlog ${name}: ${err.message}\n`);
    return EXIT_PROBLEM;
  }
  if (err instanceof CorruptLogError) {
    // A first header no writer could have produced: a file given by mistake, not a damaged log.
    if (err.reason === 'bad-length' && err.offset === 0) {
      process.stderr.write(
        `binlog ${name}: not a binary log: ${show(err.path)} at byte 0 does not start with a record any writer could have written (${shownPaths(err.message, [err.path])})\n`,
      );
    } else {
      process.stderr.write(`binlog ${name}: ${shownPaths(err.message, [err.path])} ${CORRUPT_HINT}\n`);
    }
    return EXIT_PROBLEM;
  }
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(`binlog ${name}: ${e.code && !e.message.includes(e.code) ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
  return EXIT_PROBLEM;
}
