/** binlog cat: every record of a log, oldest first. */
import { readLog } from '../../index.js';
import { count, logArg, outputFormat } from '../args.js';
import { defineCommand, EXIT_OK } from '../command.js';
import { requireLog } from '../log-files.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS } from './output-help.js';

/** `binlog cat`: every record of a log, oldest first, as text, JSON or raw records. */
export const cat = defineCommand({
  name: 'cat',
  synopsis: 'cat <log> [--json | --raw] [--skip N] [--limit N]',
  summary: 'print every record, oldest first',
  help: `Print every record of the log, oldest first: the backups in numeric order
(10 after 9), then the current file. A torn tail of the current file (a
write in progress, or the last write of a process that died) is not printed.

${OUTPUT_HELP}

Options:
  --skip N      leave out the first N records
  --limit N     print at most N records
  -h, --help    show this help

Exit status: 0 ok; 1 if there is no log at <log>, or it is not a log, or a
backup is corrupt: the records before the bad one are printed, then the
file and byte offset of the bad record on stderr; 2 usage error.`,
  options: {
    ...OUTPUT_OPTIONS,
    skip: { type: 'string' },
    limit: { type: 'string' },
  },
  async run(values, positionals, out) {
    const path = logArg(positionals);
    const format = outputFormat(values);
    let skip = count(values.skip, '--skip', 0);
    let limit = count(values.limit, '--limit', Infinity);
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
});
