/**
 * binlog: argv -> library calls. No log logic lives here: reading, checking,
 * repairing and writing are the library's; the CLI parses arguments,
 * formats output and maps outcomes to exit codes.
 *
 * The folder: index.ts (the executable: shebang, exit status) -> main.ts
 * (dispatch) -> commands/<name>.ts (one per command, with its usage text),
 * built on command.ts (the Command shape, typed options, exit codes),
 * args.ts (checked conversions), output.ts (stdout with backpressure and
 * EPIPE), report-error.ts (errors to words and exit codes), help.ts (the
 * top-level help and the README's table), log-files.ts, progress.ts.
 */
import { createRequire } from 'node:module';
import { EXIT_OK, EXIT_USAGE } from './command.js';
import { COMMANDS, findCommand } from './commands/index.js';
import { cliMarkdownTable, mainUsage } from './help.js';
import { Output } from './output.js';
import { reportError } from './report-error.js';

/** Run `binlog ...argv`; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '-h' || name === '--help') {
    process.stdout.write(`${mainUsage()}\n`);
    return EXIT_OK;
  }
  if (name === 'help') return help(rest);
  if (name === undefined) {
    process.stderr.write(`${mainUsage()}\n`);
    return EXIT_USAGE;
  }
  if (name === '--version') {
    // dist/cli/main.js -> the package's package.json.
    const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return EXIT_OK;
  }
  const command = findCommand(name);
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
    const code = await command.run(rest, out);
    if (code === 'help') {
      process.stdout.write(`${command.usage}\n`);
      return EXIT_OK;
    }
    await out.end();
    return code;
  } catch (err) {
    await out.end().catch(() => {});
    return reportError(name, err);
  }
}

/** `binlog help`, `binlog help <command>`, `binlog help --markdown` (the README's CLI table). */
function help(args: string[]): number {
  const [what, extra] = args;
  if (extra === undefined && what === '--markdown') {
    process.stdout.write(`${cliMarkdownTable()}\n`);
    return EXIT_OK;
  }
  const command = what === undefined ? undefined : findCommand(what);
  if (extra !== undefined || (what !== undefined && !command)) {
    const names = COMMANDS.map((c) => c.name).join(', ');
    process.stderr.write(`binlog help: takes one of ${names}, or --markdown; try 'binlog --help'\n`);
    return EXIT_USAGE;
  }
  process.stdout.write(`${command ? command.usage : mainUsage()}\n`);
  return EXIT_OK;
}
