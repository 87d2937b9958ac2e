/** binlog verify: every problem of a log, with file, offset and kind. */
import { verify as verifyLog, type VerifyProblem, type VerifyReport } from '../../index.js';
import { logArg } from '../args.js';
import { defineCommand, EXIT_OK, EXIT_PROBLEM } from '../command.js';
import { requireLog } from '../log-files.js';
import { plural, show } from '../output.js';
import { ProgressBar } from '../progress.js';

/** `binlog verify`: every problem of a log, one line each; exit 1 if any. */
export const verify = defineCommand({
  name: 'verify',
  synopsis: 'verify <log> [--utf8] [--json]',
  summary: 'check every file; exit 1 if anything is wrong',
  help: `Check every file of the log and print each problem as
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

Exit status: 0 no problem, 1 problems found or no log at <log>, 2 usage
error.`,
  options: { utf8: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(values, positionals, out) {
    const path = logArg(positionals);
    requireLog(path);
    const bar = new ProgressBar('verifying');
    let report;
    try {
      report = verifyLog(path, { utf8: values.utf8 === true, onProgress: (done, total) => bar.update(done, total) });
    } finally {
      bar.end();
    }
    await out.text(values.json ? `${JSON.stringify(report, null, 2)}\n` : summary(report));
    return report.ok ? EXIT_OK : EXIT_PROBLEM;
  },
});

/** A problem as verify and repair print it: `<file>:<offset>: <kind>: <message>`. */
export function problemLine(p: VerifyProblem): string {
  return `${show(p.path)}:${p.offset}: ${p.kind}: ${p.message}`;
}

/** Each problem on its line, then what was counted. */
function summary(report: VerifyReport): string {
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
  return `${lines.join('\n')}\n`;
}
