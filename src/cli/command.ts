/**
 * What every binlog command is: its help (the single source for `--help`
 * and the README's CLI table), its options, and a run function that gets
 * them parsed and typed. Exit codes and the two ways a command fails on
 * purpose live here too.
 */
import { parseArgs } from 'node:util';
import type { Output } from './output.js';

/** Exit status 0: ok. */
export const EXIT_OK = 0;
/** Exit status 1: a problem found in the log, or an I/O error. */
export const EXIT_PROBLEM = 1;
/** Exit status 2: a usage error. */
export const EXIT_USAGE = 2;

/** Bad arguments: exit 2, with a one-line hint pointing at the command's --help. */
export class UsageError extends Error {}

/** The command failed for a reason its message explains in full: exit 1. */
export class Failure extends Error {}

/** One option, as node:util parseArgs takes it (no defaults: each command applies its own after checking). */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The option may be given more than once; its value is then every string given, in order. */
  multiple?: true;
}

/** A command's options by long name (without the leading --). */
export type OptionSpecs = Record<string, OptionSpec>;

/**
 * The values parseArgs returns for `O` in strict mode: a boolean option is
 * `true` or absent, a string option a string or absent. Each command checks
 * and converts the strings itself (args.ts).
 */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : O[K]['multiple'] extends true ? string[] : string;
};

/** A command as it is written: typed by its own options. */
export interface CommandSpec<O extends OptionSpecs> {
  name: string;
  /** What follows `binlog ` on the usage line: `cat <log> [--json | --raw] ...`. Every option appears in it. */
  synopsis: string;
  /** One line for `binlog --help` and the README's table. */
  summary: string;
  /** The rest of `binlog <name> --help`, after the usage line. */
  help: string;
  options: O;
  run(values: OptionValues<O>, positionals: string[], out: Output): number | Promise<number>;
}

/** A command as main() and the help renderer see it: its options' types erased. */
export interface Command {
  readonly name: string;
  readonly synopsis: string;
  readonly summary: string;
  readonly options: OptionSpecs;
  /** The full text of `binlog <name> --help`, without a final newline. */
  readonly usage: string;
  /** Parse `args` and run; `'help'` when --help was asked for (nothing run). */
  run(args: string[], out: Output): Promise<number | 'help'>;
}

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** Make a command from its spec: parseArgs in strict mode, then the spec's run with typed values. */
export function defineCommand<const O extends OptionSpecs>(spec: CommandSpec<O>): Command {
  return {
    name: spec.name,
    synopsis: spec.synopsis,
    summary: spec.summary,
    options: spec.options,
    usage: `${wrapUsage(`Usage: binlog ${spec.synopsis}`)}\n\n${spec.help}`,
    async run(args, out) {
      let parsed;
      try {
        const options: Record<string, OptionSpec> = { ...spec.options, ...HELP_OPTION };
        parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
      } catch (err) {
        throw new UsageError(parseError(err as Error));
      }
      if (parsed.values.help === true) return 'help';
      return spec.run(typedValues(spec.options, parsed.values), parsed.positionals, out);
    },
  };
}

/** Help is read in an 80-column terminal: a long usage line wraps at spaces, continued under the command. */
export function wrapUsage(line: string, width = 80): string {
  const indent = ' '.repeat('Usage: binlog '.length + 2);
  const lines: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    if (current !== '' && current.length + 1 + word.length > width) {
      lines.push(current);
      current = indent + word;
    } else current = current === '' ? word : `${current} ${word}`;
  }
  lines.push(current);
  return lines.join('\n');
}

/** parseArgs' values checked against the options' types: each present value has the type its option declares. */
function typedValues<O extends OptionSpecs>(options: O, raw: Record<string, unknown>): OptionValues<O> {
  const values: Record<string, string | boolean | string[]> = {};
  for (const [key, option] of Object.entries(options)) {
    const value = raw[key];
    if (value === undefined) continue;
    // Strict parseArgs guarantees this; the check keeps the cast below honest.
    const items: unknown[] = option.multiple ? (value as unknown[]) : [value];
    if (!items.every((item) => typeof item === option.type)) throw new TypeError(`--${key} parsed as ${typeof value}, not ${option.type}`);
    values[key] = value as string | boolean | string[];
  }
  return values as OptionValues<O>;
}

/** A parseArgs error in a few words. */
function parseError(err: Error): string {
  const unknown = /Unknown option '([^']+)'/.exec(err.message);
  if (unknown) return `unknown option ${unknown[1]}`;
  const missing = /Option '([^' ]+)[^']*' argument missing/.exec(err.message);
  if (missing) return `option ${missing[1]} needs a value`;
  const ambiguous = /Option '([^']+)' argument is ambiguous/.exec(err.message);
  if (ambiguous) return `option ${ambiguous[1]} needs a value (for one starting with '-', write ${ambiguous[1]}=VALUE)`;
  return (err.message.split('\n')[0] ?? '').replace(/\.$/, '');
}
