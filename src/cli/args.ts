/**
 * Turning argument strings into typed values, each checked before use: a
 * bad value is a UsageError (exit 2) naming the option and what it got.
 */
import { DURABILITIES, type Durability } from '../index.js';
import { UsageError } from './command.js';
import type { Format } from './output.js';

/** The one positional argument most commands take: the path of the log's current file. */
export function logArg(positionals: string[]): string {
  const [path, extra] = positionals;
  if (path === undefined) throw new UsageError("missing <log>, the path of the log's current file");
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
  if (path === '') throw new UsageError('<log> must not be empty');
  return path;
}

/** No positional argument at all (demo). */
export function noPositionals(positionals: string[]): void {
  if (positionals[0] !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
}

/** A whole number (0 or more), or `fallback` when the option is absent. */
export function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new UsageError(`${name} takes a whole number, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** A whole number of at least `min`, or undefined when the option is absent. */
export function atLeast(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = count(value, name, 0);
  if (n < min) throw new UsageError(`${name} must be at least ${min}, got ${n}`);
  return n;
}

/** A maxFileSize: a whole number of at least 1. */
export function maxSize(value: string | undefined, fallback: number): number {
  const n = count(value, '--max-size', fallback);
  if (n === 0) throw new UsageError('--max-size must be at least 1');
  return n;
}

function isDurability(value: string): value is Durability {
  return (DURABILITIES as readonly string[]).includes(value);
}

/** One of the library's durability modes, or `fallback` when the option is absent. */
export function durability(value: string | undefined, fallback: Durability): Durability {
  if (value === undefined) return fallback;
  if (!isDurability(value)) {
    throw new UsageError(`--durability takes one of ${DURABILITIES.join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value;
}

/** --json, --raw or neither (text). */
export function outputFormat(values: { json?: boolean; raw?: boolean }): Format {
  if (values.json && values.raw) throw new UsageError('--json and --raw exclude each other');
  return values.json ? 'json' : values.raw ? 'raw' : 'text';
}
