/**
 * What `binlog ship` and `binlog pull` share: the NATS connection flags,
 * number parsing, error reporting, and stopping on SIGINT/SIGTERM.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { NatsOptions } from './connection.js';

/** Exit codes, as the rest of the CLI: 0 ok, 1 failure, 2 usage error. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A CLI command, self-contained: the lead wires it into the CLI's command table. */
export interface CliCommand {
  name: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

export const CONNECTION_HELP = `Connection (each flag also read from the environment variable shown, so
secrets need not appear in the process list):
  --server URL       nats://HOST:PORT or tls://HOST:PORT; repeat it (or give
                     a comma-separated list) for a cluster      NATS_URL
  --user NAME        user name                                  NATS_USER
  --password PASS    password (prefer the variable)             NATS_PASSWORD
  --token TOKEN      token (prefer the variable)                NATS_TOKEN
  --creds FILE       credentials file (JWT + NKey seed)         NATS_CREDS
  --tls-ca FILE      CA certificate: verify the server's TLS    NATS_CA
  --tls-cert FILE    client certificate for mutual TLS          NATS_CERT
  --tls-key FILE     client key for mutual TLS                  NATS_KEY`;

export const CONNECTION_OPTIONS = {
  server: { type: 'string', multiple: true },
  user: { type: 'string' },
  password: { type: 'string' },
  token: { type: 'string' },
  creds: { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export class UsageError extends Error {}

/** Parse argv with the connection flags and `options`; throws UsageError. */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...CONNECTION_OPTIONS, ...options }, allowPositionals: true, strict: true });
    return { values: values as Record<string, unknown>, positionals };
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!.replace(/\.$/, ''));
  }
}

/** The NatsOptions the flags give; unset ones come from the environment later. */
export function connectionFrom(values: Record<string, unknown>): NatsOptions {
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const servers = (values.server as string[] | undefined)?.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  return {
    ...(servers?.length ? { servers } : {}),
    user: str('user'),
    password: str('password'),
    token: str('token'),
    credsFile: str('creds'),
    tlsCaFile: str('tls-ca'),
    tlsCertFile: str('tls-cert'),
    tlsKeyFile: str('tls-key'),
  };
}

/** A non-negative safe integer flag, or undefined; throws UsageError naming the flag. */
export function intFlag(values: Record<string, unknown>, name: string, min = 0): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(String(v)) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, not ${JSON.stringify(v)}`);
  return n;
}

/**
 * Call `stop` on SIGINT or SIGTERM; returns a function that stops listening.
 * The listener stays until then (not `once`): a buffered logger's exit
 * handler (the puller's) re-raises the signal when it is the only listener
 * left, which would kill the process before the checkpoint is written.
 */
export function stopOnSignals(stop: () => unknown): () => void {
  const handler = (): void => void stop();
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Run a command body, turning errors into a message on stderr and an exit code. */
export async function report(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`binlog ${name}: ${err.message}; try 'binlog ${name} --help'\n`);
      return EXIT_USAGE;
    }
    const e = err as { code?: string; message?: string };
    process.stderr.write(`binlog ${name}: ${e.code && !String(e.message).includes(e.code) ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
    return EXIT_FAILURE;
  }
}
