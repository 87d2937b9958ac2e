#!/usr/bin/env node
/** binlog: argv -> library calls. No log logic lives here. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { runDemo } from './demo.js';

const USAGE = `Usage: binlog <command> [options]

Commands:
  demo        write the original's 40 demo events with rollover, read them back

Options:
  -h, --help  show help (binlog <command> --help for a command's own)
  --version   print the version`;

/** Exit codes: 0 ok, 1 a problem found in the log, 2 a usage error. */
export const EXIT_OK = 0;
export const EXIT_PROBLEM = 1;
export const EXIT_USAGE = 2;

class UsageError extends Error {}

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>, positionals: string[]): number | Promise<number>;
}

const commands: Record<string, Command> = {
  demo: {
    summary: 'write the 40 demo events with rollover, read them back, list the files',
    usage: `Usage: binlog demo [--path FILE] [--max-size N]

Writes the original's 40 demo events (four messages, ten times) to a fresh
log with a maxFileSize small enough that it rolls over, reads them back with
their index, and lists the files with their sizes.

Options:
  --path FILE     the log's current file (default ./logs/events.bin)
  --max-size N    maxFileSize in bytes (default 1000)`,
    options: { path: { type: 'string' }, 'max-size': { type: 'string' } },
    run(values) {
      const maxFileSize = values['max-size'] === undefined ? 1000 : toCount(values['max-size'], '--max-size');
      runDemo((values.path as string | undefined) ?? './logs/events.bin', maxFileSize);
      return EXIT_OK;
    },
  },
};

function toCount(value: unknown, name: string): number {
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new UsageError(`${name} takes a whole number, got ${JSON.stringify(value)}`);
  }
  return n;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version') {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('../package.json') as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return EXIT_OK;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`binlog: unknown command ${JSON.stringify(name)}; try 'binlog --help'\n`);
    return EXIT_USAGE;
  }
  try {
    const { values, positionals } = parseArgs<ParseArgsConfig>({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if ((values as Record<string, unknown>).help) {
      process.stdout.write(`${command.usage}\n`);
      return EXIT_OK;
    }
    return await command.run(values as Record<string, unknown>, positionals);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`binlog ${name}: ${(err as Error).message}; try 'binlog ${name} --help'\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`binlog: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
    process.exitCode = EXIT_PROBLEM;
  },
);
