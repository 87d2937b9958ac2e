/**
 * binlog demo (and `npm start`): the original's demo. 40 events written
 * with a maxFileSize small enough to roll over, read back with their index,
 * the files listed.
 *
 * It never deletes records it did not write (issue 10 item 3): a log that
 * already holds bytes at its path (the current file or any backup) makes it
 * refuse, unless --force says to start over. A second `npm start` therefore
 * refuses and says how to rerun, rather than writing somewhere new each time:
 * the README's session and the Docker image read ./logs/events.bin after
 * the demo, so the demo's log stays where a newcomer will look for it.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { BinaryLogger } from '../../index.js';
import { maxSize, noPositionals } from '../args.js';
import { defineCommand, EXIT_OK, Failure } from '../command.js';
import { logFiles } from '../log-files.js';
import { plural, show } from '../output.js';

/** The demo's log when --path is not given. */
export const DEMO_PATH = './logs/events.bin';
/** The demo's maxFileSize when --max-size is not given: 40 events roll over once. */
export const DEMO_MAX_FILE_SIZE = 1000;

/** The four messages the demo writes, ten times over. */
export const DEMO_MESSAGES = [
  'User login: user123',
  'Action performed: file_upload',
  'Data processed: 1024 bytes',
  'User logout: user123',
] as const;

/** `binlog demo`: the original's demo, refusing to delete a log it did not write. */
export const demo = defineCommand({
  name: 'demo',
  synopsis: 'demo [--path FILE] [--max-size N] [--force]',
  summary: 'write 40 demo events with rollover, read them back',
  help: `Write the original's 40 demo events (four messages, ten times) to a new
log with a maxFileSize small enough that it rolls over, read them back with
their index, and list the files with their sizes.

It never deletes records it did not write: if FILE or any of its backups
already holds bytes (a second run, or a log of your own), it changes
nothing and exits 1. Rerun with --force to delete that log and start over
(through npm: npm start -- --force), or give another --path.

Options:
  --path FILE     the log's current file (default ./logs/events.bin)
  --max-size N    maxFileSize in bytes (default 1000)
  --force         delete the log already at FILE (current file and
                  backups) before writing the demo's
  -h, --help      show this help

Exit status: 0 ok; 1 a log is already at FILE (without --force), or an
error; 2 usage error.`,
  options: { path: { type: 'string' }, 'max-size': { type: 'string' }, force: { type: 'boolean' } },
  run(values, positionals) {
    noPositionals(positionals);
    const maxFileSize = maxSize(values['max-size'], DEMO_MAX_FILE_SIZE);
    const path = values.path ?? DEMO_PATH;
    const files = logFiles(path);
    const bytes = files.reduce((n, f) => n + f.size, 0);
    if (bytes > 0 && values.force !== true) throw new Failure(refusal(path, files.length, bytes));
    // Only empty files, or --force: removing them deletes no one else's records.
    for (const f of files) rmSync(f.path);
    runDemo(path, maxFileSize, (line) => process.stdout.write(`${line}\n`));
    return EXIT_OK;
  },
});

/** Why the demo did nothing, and the command that reruns it: `npm start -- --force` when npm started it. */
function refusal(path: string, files: number, bytes: number): string {
  const underNpmStart = process.env.npm_lifecycle_event === 'start';
  const rerun = underNpmStart ? 'npm start -- --force' : `binlog demo${path === DEMO_PATH ? '' : ` --path ${path}`} --force`;
  return (
    `${show(path)} already holds a log (${plural(files, 'file')}, ${plural(bytes, 'byte')}) and the demo never deletes ` +
    `records it did not write; nothing was changed. To delete that log and run the demo again: ${rerun}`
  );
}

/** Write the 40 demo events to `path` (a log with no records), read them back, list the files. */
export function runDemo(path: string, maxFileSize: number, out: (line: string) => void): void {
  using logger = new BinaryLogger(path, maxFileSize);
  for (let i = 0; i < 10; i++) for (const message of DEMO_MESSAGES) logger.write(message);
  out(`Wrote 40 events to ${relative(process.cwd(), logger.path) || logger.path} (maxFileSize ${maxFileSize})`);
  out('');
  let index = 0;
  for (const record of logger.read()) out(`${String(index++).padStart(2)}: ${record}`);
  out('');
  const dir = dirname(logger.path);
  out(`Files in ${relative(process.cwd(), dir) || dir}:`);
  for (const name of readdirSync(dir).filter((n) => !n.startsWith('.')).sort()) {
    out(`  ${name.padEnd(16)} ${String(statSync(join(dir, name)).size).padStart(6)} bytes`);
  }
}
