/**
 * binlog's own help, and the README's CLI table, rendered from the commands
 * themselves (their synopsis and summary), so neither can drift from what
 * `binlog <command> --help` says. A test checks README.md against
 * cliMarkdownTable().
 */
import { COMMANDS } from './commands/index.js';

/** `binlog --help`. */
export function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => commandColumn(c.name).length));
  const list = COMMANDS.map((c) => `  ${commandColumn(c.name).padEnd(width)}  ${c.summary}`);
  return `Usage: binlog <command> <log> [options]

Look into, check, repair and write logs of length-prefixed binary records.
<log> is the path of a log's current file (logs/events.bin); its backups
(logs/events.0.bin, logs/events.1.bin, ...) are found beside it.

Commands:
${list.join('\n')}

Options:
  -h, --help      show this help; 'binlog <command> --help' for a command's
  --version       print the version

Exit status: 0 ok, 1 a problem found (a corrupt or unsound log, an I/O
error), 2 a usage error.`;
}

/** `cat <log>`, `demo`: the command and its positional argument. */
function commandColumn(name: string): string {
  return name === 'demo' ? name : `${name} <log>`;
}

/**
 * The README's CLI table in Markdown: a row per command with its full
 * synopsis (every option its --help shows) and its summary.
 */
export function cliMarkdownTable(): string {
  const rows = COMMANDS.map((c) => `| \`binlog ${c.synopsis.replaceAll('|', '\\|')}\` | ${c.summary} |`);
  return ['| Command | What it does |', '| ------- | ------------ |', ...rows].join('\n');
}
