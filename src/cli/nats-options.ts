/**
 * What `binlog ship` and `binlog pull` share: the NATS connection options
 * (each also read from an environment variable, so secrets need not appear
 * in the process list), and stopping on SIGINT/SIGTERM.
 */
import type { NatsOptions } from '../ship/connection.js';
import { UsageError, type OptionValues } from './command.js';

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
  --tls-key FILE     client key for mutual TLS                  NATS_KEY

Needs the NATS client: npm install nats@^2.29.3.`;

/** The synopsis of the connection options, for the usage line. */
export const CONNECTION_SYNOPSIS =
  '[--server URL]... [--user NAME --password PASS | --token TOKEN | --creds FILE] [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]';

/** The options that name the stream, for both commands. */
export const STREAM_OPTIONS = {
  stream: { type: 'string' },
  subject: { type: 'string' },
  once: { type: 'boolean' },
} as const;

/** The --stream value, which both commands require. */
export function requireStream(values: OptionValues<typeof STREAM_OPTIONS>): string {
  if (!values.stream) throw new UsageError('--stream is required');
  return values.stream;
}

export const CONNECTION_OPTIONS = {
  server: { type: 'string', multiple: true },
  user: { type: 'string' },
  password: { type: 'string' },
  token: { type: 'string' },
  creds: { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

/** The NatsOptions the flags give; unset ones come from the environment later (ship/connection.ts). */
export function connectionFrom(values: OptionValues<typeof CONNECTION_OPTIONS>): NatsOptions {
  const servers = values.server?.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  return {
    ...(servers?.length ? { servers } : {}),
    user: values.user,
    password: values.password,
    token: values.token,
    credsFile: values.creds,
    tlsCaFile: values['tls-ca'],
    tlsCertFile: values['tls-cert'],
    tlsKeyFile: values['tls-key'],
  };
}

/**
 * Await `done` while SIGINT or SIGTERM call `stop`. The listeners stay until
 * `done` settles (not `once`): a buffered logger's exit handler (the
 * puller's) re-raises the signal when it is the only listener left, which
 * would kill the process before the checkpoint is written.
 */
export async function untilDoneOrSignal<T>(done: Promise<T>, stop: () => unknown): Promise<T> {
  const handler = (): void => void stop();
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await done;
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}
