/** binlog repair: what the library's repair() does (or would do), in its own words. */
import { repair as repairLog } from '../../index.js';
import { logArg } from '../args.js';
import { defineCommand, EXIT_OK, EXIT_PROBLEM } from '../command.js';
import { requireLog } from '../log-files.js';
import { show, shownPaths } from '../output.js';
import { problemLine } from './verify.js';

/** `binlog repair`: what repair() would do (or, with --yes, did), in the library's words. */
export const repair = defineCommand({
  name: 'repair',
  synopsis: 'repair <log> [--yes]',
  summary: 'set aside what cannot be read, cut torn tails (with --yes)',
  help: `Make the log read whole again, never deleting a byte without keeping a copy:
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
be repaired), or the log is in use, or there is no log at <log>; 2 usage
error.`,
  options: { yes: { type: 'boolean', short: 'y' } },
  async run(values, positionals, out) {
    const path = logArg(positionals);
    requireLog(path);
    const dryRun = values.yes !== true;
    const result = repairLog(path, { dryRun });
    // Each action's words are the library's (RepairAction.message): one wording, wherever a repair is reported.
    const lines = result.actions.map((a) => shownPaths(a.message, [a.sideFile, a.path]));
    for (const p of result.unfixed) lines.push(`cannot repair: ${problemLine(p)}`);
    if (result.actions.length === 0 && result.unfixed.length === 0) lines.push(`nothing to repair: ${show(path)} is sound`);
    else if (dryRun && result.actions.length > 0) lines.push(`nothing was changed; run 'binlog repair ${path} --yes' to do it`);
    await out.text(`${lines.join('\n')}\n`);
    const sound = result.unfixed.length === 0 && (!dryRun || result.actions.length === 0);
    return sound ? EXIT_OK : EXIT_PROBLEM;
  },
});
