/** binlog tail: the last records of a log, then (-f) the ones appended after them. */
import { follow, lastRecords } from '../../index.js';
import { count, logArg, outputFormat } from '../args.js';
import { defineCommand, EXIT_OK } from '../command.js';
import { logExists, requireLog } from '../log-files.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS } from './output-help.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** `binlog tail`: the last N records, then with -f the records appended after them. */
export const tail = defineCommand({
  name: 'tail',
  synopsis: 'tail <log> [-n N] [-f] [--json | --raw]',
  summary: 'print the last records (-n N); -f follows new ones',
  help: `Print the last N records of the log, oldest first (reading only the newest
files that hold them). With -f, then keep printing records as they are
appended, across rollovers, like tail -F, until interrupted (Ctrl-C, exit
status 0) or the reader of the output goes away; a log that does not exist
yet is waited for.

${OUTPUT_HELP}

Options:
  -n, --lines N   how many records (default 10)
  -f, --follow    keep following the log
  -h, --help      show this help

Exit status: 0 ok; 1 if there is no log at <log> (without -f), or it is not
a log, or a backup holding some of those records is corrupt; 2 usage error.`,
  options: {
    lines: { type: 'string', short: 'n' },
    follow: { type: 'boolean', short: 'f' },
    ...OUTPUT_OPTIONS,
  },
  async run(values, positionals, out) {
    const path = logArg(positionals);
    const format = outputFormat(values);
    const n = count(values.lines, '-n', 10);
    if (!values.follow) requireLog(path);
    // tail -f on a log that does not exist yet waits for it, as tail -F does, and then shows it from its first record.
    const waiting = values.follow === true && !logExists(path);
    if (waiting) process.stderr.write(`binlog tail: no log at ${path} yet; waiting for it\n`);
    const { records, end } = waiting ? { records: [], end: { seq: 0, offset: 0 } } : lastRecords(path, n);
    for (const payload of records) {
      await out.record(payload, format);
      if (out.closed) return EXIT_OK;
    }
    if (!values.follow) return EXIT_OK;
    await out.flush();
    // Follow from exactly where the last records ended: nothing in between is missed or repeated.
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    for (const s of SIGNALS) process.once(s, stop);
    process.stdout.once('close', stop);
    try {
      for await (const payload of follow(path, { from: end, encoding: 'buffer', signal: ac.signal, waitForLog: waiting })) {
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
});
