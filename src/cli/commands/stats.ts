/** binlog stats: files, sizes, record counts and payload sizes of a log. */
import { logOwner, logStats, type LogOwner, type LogStats } from '../../index.js';
import { logArg } from '../args.js';
import { defineCommand, EXIT_OK, EXIT_PROBLEM } from '../command.js';
import { requireLog } from '../log-files.js';
import { plural, round } from '../output.js';

/** `binlog stats`: a table (or JSON) of files, sizes, record counts and payload sizes. */
export const stats = defineCommand({
  name: 'stats',
  synopsis: 'stats <log> [--json]',
  summary: 'files, sizes, record counts, payload sizes, who has it open',
  help: `Summarize the log: each file with its size in bytes and its record count,
the totals, payload sizes (min, mean, max) and the first and last backup
number, and who has the log open: the owner process and, for a log opened
with multiProcess, how many client processes write through it. Counts cover
whole records; if binlog verify would find problems, they are counted on
stderr and the exit status is 1.

Options:
  --json        print one JSON object instead of the table
  -h, --help    show this help

Exit status: 0 ok, 1 no log at <log> or the log has problems (see binlog
verify), 2 usage error.`,
  options: { json: { type: 'boolean' } },
  async run(values, positionals, out) {
    const path = logArg(positionals);
    requireLog(path);
    const result = logStats(path);
    const owner = await logOwner(path);
    await out.text(values.json ? `${JSON.stringify({ ...result, owner: owner ?? null }, null, 2)}\n` : table(result) + ownerLine(owner));
    await out.flush();
    if (result.problems.length > 0) {
      process.stderr.write(
        `binlog stats: ${plural(result.problems.length, 'problem')} found; the counts cover whole records only ('binlog verify ${path}' lists them)\n`,
      );
      return EXIT_PROBLEM;
    }
    return EXIT_OK;
  },
});

/** The table: a row per file, the totals, then payload sizes and backup numbers. */
function table(s: LogStats): string {
  const rows: Array<[string, string, string]> = s.files.map((f) => [f.name, String(f.size), String(f.records)]);
  const total: [string, string, string] = ['total', String(s.totals.bytes), String(s.totals.records)];
  const width = (i: 0 | 1 | 2, min: number): number => Math.max(min, ...[...rows, total].map((r) => r[i].length));
  const [w0, w1, w2] = [width(0, 4), width(1, 5), width(2, 7)];
  const line = (r: [string, string, string]): string => `${r[0].padEnd(w0)}  ${r[1].padStart(w1)}  ${r[2].padStart(w2)}`;
  const lines = [line(['file', 'bytes', 'records']), ...rows.map(line)];
  lines.push(`${line(total)}  in ${plural(s.totals.files, 'file')}`);
  const p = s.payload;
  lines.push(p ? `payload bytes: min ${p.min}, mean ${round(p.mean)}, max ${p.max}` : 'payload bytes: no records');
  const b = s.backups;
  lines.push(b ? `backups: first ${b.first}, last ${b.last}` : 'backups: none');
  return `${lines.join('\n')}\n`;
}

/** Who has the log open: "open by: process 123, thread 456 (multiProcess, 3 client processes)", or "open by: nobody". */
function ownerLine(owner: LogOwner | undefined): string {
  if (!owner) return 'open by: nobody\n';
  const clients = owner.clients === undefined ? '? client processes' : `${owner.clients} client process${owner.clients === 1 ? '' : 'es'}`;
  return `open by: ${owner.holder}${owner.multiProcess ? ` (multiProcess, ${clients})` : ''}\n`;
}
