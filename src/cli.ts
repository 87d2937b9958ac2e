#!/usr/bin/env node
/**
 * binlog: argv -> library calls. No log logic lives here: reading, checking,
 * repairing and writing are the library's (reader, verify, repair, stats,
 * tail, writer); this file parses arguments, formats output and maps
 * outcomes to exit codes.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { runDemo } from './demo.js';
import { CorruptLogError } from './errors.js';
import { HEADER_BYTES, writeHeader } from './format.js';
import { listBackups } from './naming.js';
import { follow } from './follow.js';
import { readLog } from './reader.js';
import { repair, type RepairAction } from './repair.js';
import { logStats } from './stats.js';
import { lastRecords } from './tail.js';
import { verify, type VerifyProblem } from './verify.js';
import { BinaryLogger, DURABILITIES, type Durability } from './writer.js';

const USAGE = `Usage: binlog <command> <log> [options]

Look into, check, repair and write logs of length-prefixed binary records.
<log> is the path of a log's current file (logs/events.bin); its backups
(logs/events.0.bin, logs/events.1.bin, ...) are found beside it.

Commands:
  cat <log>       print every record, oldest first
  tail <log>      print the last records (-n N); -f follows new ones
  stats <log>     files, sizes, record counts, payload sizes
  verify <log>    check every file; exit 1 if anything is wrong
  repair <log>    set aside what cannot be read, cut torn tails (with --yes)
  write <log>     append stdin lines (or NUL-separated items) as records
  demo            write 40 demo events with rollover, read them back

Options:
  -h, --help      show this help; 'binlog <command> --help' for a command's
  --version       print the version

Exit status: 0 ok, 1 a problem found (a corrupt or unsound log, an I/O
error), 2 a usage error.`;

/** Exit codes: 0 ok, 1 a problem found in the log, 2 a usage error. */
export const EXIT_OK = 0;
export const EXIT_PROBLEM = 1;
export const EXIT_USAGE = 2;

/** Logs at least this large get a progress bar from verify (on a terminal). */
const PROGRESS_MIN_BYTES = 64 * 1024 * 1024;
/** Output is written in chunks of about this many bytes. */
const OUTPUT_CHUNK_BYTES = 64 * 1024;

class UsageError extends Error {}

/** The command failed for a reason already explained on stderr. */
class Failure extends Error {}

interface Command {
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>, positionals: string[], out: Output): number | Promise<number>;
}

const OUTPUT_HELP = `Output (one of):
  (default)   each payload as it is, then a newline (a payload holding a
              newline spans lines; use --json to keep them apart)
  --json      one JSON value per line: the payload as a JSON string, or
              {"base64":"..."} for a payload that is not valid UTF-8
  --raw       the records themselves, length prefixes included: the
              output is a log file (binlog cat logs/events.bin --raw > all.bin)`;

const commands: Record<string, Command> = {
  cat: {
    usage: `Usage: binlog cat <log> [--json | --raw] [--skip N] [--limit N]

Print every record of the log, oldest first: the backups in numeric order
(10 after 9), then the current file. A torn tail of the current file (a
write in progress, or the last write of a process that died) is not printed.

${OUTPUT_HELP}

Options:
  --skip N      leave out the first N records
  --limit N     print at most N records
  -h, --help    show this help

Exit status: 0 ok; 1 if a backup is corrupt: the records before the bad one
are printed, then the file and byte offset of the bad record on stderr;
2 usage error.`,
    options: {
      json: { type: 'boolean' },
      raw: { type: 'boolean' },
      skip: { type: 'string' },
      limit: { type: 'string' },
    },
    async run(values, positionals, out) {
      const path = logArg(positionals);
      const format = outputFormat(values);
      let skip = values.skip === undefined ? 0 : toCount(values.skip, '--skip');
      let limit = values.limit === undefined ? Infinity : toCount(values.limit, '--limit');
      requireLog(path);
      if (limit === 0) return EXIT_OK;
      for (const payload of readLog(path, { encoding: 'buffer' })) {
        if (skip > 0) {
          skip--;
          continue;
        }
        await out.record(payload, format);
        if (out.closed || --limit === 0) break;
      }
      return EXIT_OK;
    },
  },

  tail: {
    usage: `Usage: binlog tail <log> [-n N] [-f] [--json | --raw]

Print the last N records of the log, oldest first (reading only the newest
files that hold them). With -f, then keep printing records as they are
appended, across rollovers, like tail -F, until interrupted (Ctrl-C, exit
status 0) or the reader of the output goes away; a log that does not exist
yet is waited for.

${OUTPUT_HELP}

Options:
  -n, --lines N   how many records (default 10)
  -f, --follow    keep following the log
  -h, --help      show this help

Exit status: 0 ok; 1 if a backup holding some of those records is corrupt;
2 usage error.`,
    options: {
      lines: { type: 'string', short: 'n' },
      follow: { type: 'boolean', short: 'f' },
      json: { type: 'boolean' },
      raw: { type: 'boolean' },
    },
    async run(values, positionals, out) {
      const path = logArg(positionals);
      const format = outputFormat(values);
      const n = values.lines === undefined ? 10 : toCount(values.lines, '-n');
      if (!values.follow) requireLog(path);
      else if (!logExists(path)) process.stderr.write(`binlog tail: no log at ${path} yet; waiting for it\n`);
      const { records, end } = lastRecords(path, n);
      for (const payload of records) {
        await out.record(payload, format);
        if (out.closed) return EXIT_OK;
      }
      if (!values.follow) return EXIT_OK;
      await out.flush();
      // Follow from exactly where the last records ended: nothing in between is missed or repeated.
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
      for (const s of SIGNALS) process.once(s, stop);
      process.stdout.once('close', stop);
      try {
        for await (const payload of follow(path, { from: end, encoding: 'buffer', signal: ac.signal })) {
          await out.record(payload, format);
          await out.flush();
          if (out.closed) break;
        }
      } catch (err) {
        if ((err as Error).name !== 'AbortError') throw err;
      } finally {
        for (const s of SIGNALS) process.off(s, stop);
        process.stdout.off('close', stop);
      }
      return EXIT_OK;
    },
  },

  stats: {
    usage: `Usage: binlog stats <log> [--json]

Summarize the log: each file with its size in bytes and its record count,
the totals, payload sizes (min, mean, max) and the first and last backup
number. Counts cover whole records; if binlog verify would find problems,
they are counted on stderr and the exit status is 1.

Options:
  --json        print one JSON object instead of the table
  -h, --help    show this help

Exit status: 0 ok, 1 the log has problems (see binlog verify), 2 usage error.`,
    options: { json: { type: 'boolean' } },
    async run(values, positionals, out) {
      const path = logArg(positionals);
      requireLog(path);
      const stats = logStats(path);
      if (values.json) {
        await out.text(`${JSON.stringify(stats, null, 2)}\n`);
      } else {
        const rows = stats.files.map((f) => [f.name, String(f.size), String(f.records)]);
        const total = ['total', String(stats.totals.bytes), String(stats.totals.records)];
        const w0 = Math.max(4, ...rows.map((r) => r[0]!.length), total[0]!.length);
        const w1 = Math.max(5, ...rows.map((r) => r[1]!.length), total[1]!.length);
        const w2 = Math.max(7, ...rows.map((r) => r[2]!.length), total[2]!.length);
        const line = (r: string[]): string => `${r[0]!.padEnd(w0)}  ${r[1]!.padStart(w1)}  ${r[2]!.padStart(w2)}`;
        const lines = [line(['file', 'bytes', 'records']), ...rows.map(line)];
        lines.push(`${line(total)}  in ${plural(stats.totals.files, 'file')}`);
        const p = stats.payload;
        lines.push(p ? `payload bytes: min ${p.min}, mean ${round(p.mean)}, max ${p.max}` : 'payload bytes: no records');
        const b = stats.backups;
        lines.push(b ? `backups: first ${b.first}, last ${b.last}` : 'backups: none');
        await out.text(`${lines.join('\n')}\n`);
      }
      await out.flush();
      if (stats.problems.length > 0) {
        process.stderr.write(
          `binlog stats: ${plural(stats.problems.length, 'problem')} found; the counts cover whole records only ('binlog verify ${positionals[0]}' lists them)\n`,
        );
        return EXIT_PROBLEM;
      }
      return EXIT_OK;
    },
  },

  verify: {
    usage: `Usage: binlog verify <log> [--utf8] [--json]

Check every file of the log and print each problem as
<file>:<byte offset>: <kind>: <what is wrong>. The kinds:
  torn-tail             the current file ends in a partial record
  length-past-end       a record runs past the end of a backup
  numbering-gap         backups missing from the middle of the numbering
  invalid-utf8          a payload that is not well-formed UTF-8 (--utf8)
  stray-temp            an interrupted rollover left its temporary file
  interrupted-rollover  the current file is still the last backup's
  unreadable            a file that cannot be read
Then one summary line. Nothing is changed; binlog repair fixes what it can.
On a terminal, a log over 64 MiB gets a progress bar on stderr.

Options:
  --utf8        also check that every payload is well-formed UTF-8
  --json        print the report as one JSON object:
                { ok, files: [{ path, seq, size, records, wholeBytes }],
                  problems: [{ kind, path, offset, message }], omittedProblems }
  -h, --help    show this help

Exit status: 0 no problem, 1 problems found, 2 usage error.`,
    options: { utf8: { type: 'boolean' }, json: { type: 'boolean' } },
    async run(values, positionals, out) {
      const path = logArg(positionals);
      requireLog(path);
      const bar = new ProgressBar('verifying');
      let report;
      try {
        report = verify(path, { utf8: values.utf8 === true, onProgress: (done, total) => bar.update(done, total) });
      } finally {
        bar.end();
      }
      if (values.json) {
        await out.text(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        const lines = report.problems.map(problemLine);
        const records = report.files.reduce((n, f) => n + f.records, 0);
        const bytes = report.files.reduce((n, f) => n + f.size, 0);
        const counted = `${plural(report.files.length, 'file')}, ${plural(records, 'record')}, ${plural(bytes, 'byte')}`;
        if (report.ok) {
          lines.push(`ok: ${counted}`);
        } else {
          const found = report.problems.length + report.omittedProblems;
          if (report.omittedProblems > 0) lines.push(`... and ${report.omittedProblems} more`);
          lines.push(`${plural(found, 'problem')} in ${counted}`);
        }
        await out.text(`${lines.join('\n')}\n`);
      }
      return report.ok ? EXIT_OK : EXIT_PROBLEM;
    },
  },

  repair: {
    usage: `Usage: binlog repair <log> [--yes]

Make the log read whole again, never deleting a byte without keeping a copy:
  - a torn tail of the current file, or the bytes of a backup from a record
    that runs past its end, are copied into a side file beside it, named
    after the file and the byte offset they came from
    (events.3.bin.corrupt-40), and the file is cut back to whole records;
  - what an interrupted rollover left is cleared up: an empty temporary
    file is removed, a current file that is still the last backup is
    unlinked (its records stay in the backup).
Numbering gaps and unreadable files cannot be repaired; they are listed.
Without --yes, it says what it would do and changes nothing. It refuses to
touch a log that a logger has open.

Options:
  -y, --yes     do it
  -h, --help    show this help

Exit status: 0 the log is sound when binlog is done; 1 it is not (without
--yes: there is something to repair; with it: problems remain that cannot
be repaired), or the log is in use; 2 usage error.`,
    options: { yes: { type: 'boolean', short: 'y' } },
    async run(values, positionals, out) {
      const path = logArg(positionals);
      requireLog(path);
      const dryRun = values.yes !== true;
      const result = repair(path, { dryRun });
      const lines = result.actions.map((a) => actionLine(a, dryRun));
      for (const p of result.unfixed) lines.push(`cannot repair: ${problemLine(p)}`);
      if (result.actions.length === 0 && result.unfixed.length === 0) lines.push(`nothing to repair: ${show(path)} is sound`);
      else if (dryRun && result.actions.length > 0) lines.push(`nothing was changed; run 'binlog repair ${positionals[0]} --yes' to do it`);
      await out.text(`${lines.join('\n')}\n`);
      const sound = result.unfixed.length === 0 && (!dryRun || result.actions.length === 0);
      return sound ? EXIT_OK : EXIT_PROBLEM;
    },
  },

  write: {
    usage: `Usage: binlog write <log> --max-size N [--null] [--durability MODE]

Append each line of standard input to the log as one record, without its
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
      const maxFileSize = toCount(values['max-size'], '--max-size');
      if (maxFileSize === 0) throw new UsageError('--max-size must be at least 1');
      const durability = (values.durability ?? 'buffered') as Durability;
      if (!DURABILITIES.includes(durability)) {
        throw new UsageError(`--durability takes one of ${DURABILITIES.join(', ')}; got ${JSON.stringify(values.durability)}`);
      }
      const separator = values.null ? 0x00 : 0x0a;
      const logger = new BinaryLogger(path, { maxFileSize, durability });
      try {
        // Bytes of an item not yet ended by a separator, kept as the chunks they came in.
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
          let start = 0;
          for (let at = chunk.indexOf(separator); at >= 0; at = chunk.indexOf(separator, start)) {
            const piece = chunk.subarray(start, at);
            if (pendingBytes === 0) {
              logger.write(piece);
            } else {
              pending.push(piece);
              logger.write(Buffer.concat(pending, pendingBytes + piece.length));
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
        if (pendingBytes > 0) logger.write(Buffer.concat(pending, pendingBytes));
      } finally {
        logger.close();
      }
      return EXIT_OK;
    },
  },

  demo: {
    usage: `Usage: binlog demo [--path FILE] [--max-size N]

Write the original's 40 demo events (four messages, ten times) to a fresh
log with a maxFileSize small enough that it rolls over, read them back with
their index, and list the files with their sizes. Any log already at FILE
is removed first.

Options:
  --path FILE     the log's current file (default ./logs/events.bin)
  --max-size N    maxFileSize in bytes (default 1000)
  -h, --help      show this help`,
    options: { path: { type: 'string' }, 'max-size': { type: 'string' } },
    run(values, positionals) {
      if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
      const maxFileSize = values['max-size'] === undefined ? 1000 : toCount(values['max-size'], '--max-size');
      if (maxFileSize === 0) throw new UsageError('--max-size must be at least 1');
      runDemo((values.path as string | undefined) ?? './logs/events.bin', maxFileSize);
      return EXIT_OK;
    },
  },
};

// ------------------------------------------------------------------ arguments

function logArg(positionals: string[]): string {
  const [path, extra] = positionals;
  if (path === undefined) throw new UsageError("missing <log>, the path of the log's current file");
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
  if (path === '') throw new UsageError('<log> must not be empty');
  return path;
}

function toCount(value: unknown, name: string): number {
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new UsageError(`${name} takes a whole number, got ${JSON.stringify(value)}`);
  }
  return n;
}

type Format = 'text' | 'json' | 'raw';

function outputFormat(values: Record<string, unknown>): Format {
  if (values.json && values.raw) throw new UsageError('--json and --raw exclude each other');
  return values.json ? 'json' : values.raw ? 'raw' : 'text';
}

function logExists(path: string): boolean {
  return existsSync(path) || listBackups(path).length > 0;
}

/** Fail (exit 1) if there is no log at `path`: no current file and no backup. */
function requireLog(path: string): void {
  if (!logExists(path)) throw new Failure(`no log at ${path}: no current file and no backups`);
}

// --------------------------------------------------------------------- output

/** A path as the user would type it: relative to the working directory when under it. */
function show(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function round(x: number): string {
  return String(Math.round(x * 10) / 10);
}

function problemLine(p: VerifyProblem): string {
  return `${show(p.path)}:${p.offset}: ${p.kind}: ${p.message}`;
}

function actionLine(a: RepairAction, dryRun: boolean): string {
  const would = (done: string, todo: string): string => (dryRun ? `would ${todo}` : done);
  switch (a.action) {
    case 'set-aside':
      if (a.problem.kind === 'stray-temp') {
        return `${would('moved', 'move')} ${show(a.path)} (${plural(a.bytes, 'byte')}, stray-temp) to ${show(a.sideFile!)}`;
      }
      return (
        `${would('set aside', 'set aside')} ${plural(a.bytes, 'byte')} of ${show(a.path)} from byte ${a.offset} (${a.problem.kind}) ` +
        `in ${show(a.sideFile!)} and cut the file to ${plural(a.offset, 'byte')}`
      );
    case 'remove-temp':
      return `${would('removed', 'remove')} ${show(a.path)} (empty, stray-temp)`;
    case 'unlink-current':
      return `${would('removed', 'remove')} ${show(a.path)} (interrupted-rollover: a second name of the last backup, which keeps its records)`;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * stdout, written in chunks with backpressure. A reader that goes away
 * (`binlog cat log | head`) ends the output quietly: `closed` turns true
 * and the command stops.
 */
class Output {
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

  async text(s: string): Promise<void> {
    this.#push(Buffer.from(s));
    if (this.#bytes >= OUTPUT_CHUNK_BYTES) await this.flush();
  }

  /** Write what is buffered; wait while the reader is behind. */
  async flush(): Promise<void> {
    if (this.#bytes === 0) return;
    const chunk = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#bytes);
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

const NEWLINE = Buffer.from('\n');

/** A progress bar on stderr, drawn only on a terminal and for a large log. */
class ProgressBar {
  #shown = false;
  #last = 0;
  constructor(readonly label: string) {}

  update(done: number, total: number): void {
    if (!process.stderr.isTTY || total < PROGRESS_MIN_BYTES) return;
    const now = Date.now();
    if (this.#shown && now - this.#last < 100 && done < total) return;
    this.#last = now;
    this.#shown = true;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const mib = (n: number): string => (n / (1024 * 1024)).toFixed(1);
    const pct = String(Math.floor((done / total) * 100)).padStart(3);
    process.stderr.write(`\r${this.label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${pct}% ${mib(done)}/${mib(total)} MiB`);
  }

  end(): void {
    if (this.#shown) process.stderr.write('\r\x1b[K');
    this.#shown = false;
  }
}

// ----------------------------------------------------------------------- main

/** A parseArgs error in a few words. */
function parseError(err: Error & { code?: string }): string {
  const unknown = /Unknown option '([^']+)'/.exec(err.message);
  if (unknown) return `unknown option ${unknown[1]}`;
  const missing = /Option '([^' ]+)[^']*' argument missing/.exec(err.message);
  if (missing) return `option ${missing[1]} needs a value`;
  const ambiguous = /Option '([^']+)' argument is ambiguous/.exec(err.message);
  if (ambiguous) return `option ${ambiguous[1]} needs a value (for one starting with '-', write ${ambiguous[1]}=VALUE)`;
  return err.message.split('\n')[0]!.replace(/\.$/, '');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  if (name === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT_USAGE;
  }
  if (name === '--version') {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('../package.json') as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return EXIT_OK;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    const what = name.startsWith('-') ? `unknown option ${name}` : `unknown command ${JSON.stringify(name)}`;
    process.stderr.write(`binlog: ${what}; try 'binlog --help'\n`);
    return EXIT_USAGE;
  }
  // Warnings from the library (a torn tail cut, a rollover recovered) in binlog's words.
  process.removeAllListeners('warning');
  process.on('warning', (w: Error & { code?: string }) => {
    process.stderr.write(`binlog ${name}: warning: ${w.message}${w.code ? ` (${w.code})` : ''}\n`);
  });
  const out = new Output(process.stdout);
  try {
    let parsed;
    try {
      parsed = parseArgs<ParseArgsConfig>({
        args: rest,
        options: { ...command.options, help: { type: 'boolean', short: 'h' } },
        allowPositionals: true,
        strict: true,
      });
    } catch (err) {
      throw new UsageError(parseError(err as Error));
    }
    const values = parsed.values as Record<string, unknown>;
    if (values.help) {
      process.stdout.write(`${command.usage}\n`);
      return EXIT_OK;
    }
    const code = await command.run(values, parsed.positionals, out);
    await out.end();
    return code;
  } catch (err) {
    await out.end().catch(() => {});
    if (err instanceof UsageError) {
      process.stderr.write(`binlog ${name}: ${err.message}; try 'binlog ${name} --help'\n`);
      return EXIT_USAGE;
    }
    if (err instanceof Failure) {
      process.stderr.write(`binlog ${name}: ${err.message}\n`);
      return EXIT_PROBLEM;
    }
    if (err instanceof CorruptLogError) {
      const prefix = `Corrupt log file "${err.path}" at byte ${err.offset}: `;
      const reason = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
      process.stderr.write(
        `binlog ${name}: corrupt log: ${show(err.path)} at byte ${err.offset}: ${reason} ('binlog verify' lists every problem, 'binlog repair' fixes what it can)\n`,
      );
      return EXIT_PROBLEM;
    }
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`binlog ${name}: ${e.code && !e.message.includes(e.code) ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
    return EXIT_PROBLEM;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`binlog: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = EXIT_PROBLEM;
  },
);
