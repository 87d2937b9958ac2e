/**
 * Connecting to NATS (issue 12, items 6 and 7): the options a production
 * server asks for, from the caller or from environment variables (so secrets
 * need not appear in the process list), and the one place the NATS client is
 * loaded. It is loaded with a dynamic import, only when shipping or pulling
 * starts: `import 'binary-logger'` loads no NATS code, and the client is an
 * optional peer dependency that a user who never ships does not install.
 */
import type { ConnectionOptions, NatsConnection } from 'nats';
import { ERR_NATS_AUTH, ERR_NATS_CLIENT_MISSING, ERR_NATS_CONNECT, codedError } from './errors.js';

/** How to reach and authenticate to a NATS server or cluster. */
export interface NatsOptions {
  /**
   * Server URLs (`nats://host:port`, `tls://host:port`); several for a
   * cluster (the client fails over among them and learns the rest).
   * Defaults to `$NATS_URL` (comma-separated), else `nats://127.0.0.1:4222`.
   */
  servers?: string | string[];
  /** User name. Defaults to `$NATS_USER`. */
  user?: string;
  /** Password. Defaults to `$NATS_PASSWORD`. */
  password?: string;
  /** Token. Defaults to `$NATS_TOKEN`. */
  token?: string;
  /** A `.creds` file (JWT and NKey seed, as `nsc` writes it). Defaults to `$NATS_CREDS`. */
  credsFile?: string;
  /** CA certificate file to verify the server's TLS certificate (turns TLS on). Defaults to `$NATS_CA`. */
  tlsCaFile?: string;
  /** Client certificate file for mutual TLS. Defaults to `$NATS_CERT`. */
  tlsCertFile?: string;
  /** Client key file for mutual TLS. Defaults to `$NATS_KEY`. */
  tlsKeyFile?: string;
  /** Connection name shown by the server's monitoring. Defaults to `binlog`. */
  name?: string;
}

export const DEFAULT_SERVER = 'nats://127.0.0.1:4222';

/** The options with every unset field taken from the environment. */
export function withEnvironment(options: NatsOptions, env: NodeJS.ProcessEnv = process.env): NatsOptions {
  const pick = (value: string | undefined, name: string): string | undefined => value ?? (env[name] || undefined);
  const servers = options.servers ?? env.NATS_URL?.split(',').map((s) => s.trim()).filter(Boolean) ?? [DEFAULT_SERVER];
  return {
    servers: Array.isArray(servers) ? servers : [servers],
    user: pick(options.user, 'NATS_USER'),
    password: pick(options.password, 'NATS_PASSWORD'),
    token: pick(options.token, 'NATS_TOKEN'),
    credsFile: pick(options.credsFile, 'NATS_CREDS'),
    tlsCaFile: pick(options.tlsCaFile, 'NATS_CA'),
    tlsCertFile: pick(options.tlsCertFile, 'NATS_CERT'),
    tlsKeyFile: pick(options.tlsKeyFile, 'NATS_KEY'),
    name: options.name ?? 'binlog',
  };
}

/** The NATS client module, loaded on first use. */
export type NatsModule = typeof import('nats');

let loaded: Promise<NatsModule> | undefined;

/** Load the `nats` package, or throw ERR_NATS_CLIENT_MISSING saying what to install. */
export function loadNats(): Promise<NatsModule> {
  loaded ??= import('nats').catch((err: unknown) => {
    loaded = undefined;
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw codedError(ERR_NATS_CLIENT_MISSING, 'Shipping and pulling need the NATS client: run `npm install nats@^2.29.3` beside binary-logger', err);
    }
    throw err;
  });
  return loaded;
}

function serverList(options: NatsOptions): string {
  const s = options.servers ?? [];
  // A URL may carry user:password@; the secret never goes into a message.
  return (Array.isArray(s) ? s : [s]).map((u) => u.replace(/\/\/[^@/]*@/, '//')).join(', ');
}

/**
 * Connect, with every option resolved. Errors name the server(s), never a
 * secret: ERR_NATS_AUTH when the server refuses the credentials,
 * ERR_NATS_CONNECT otherwise.
 *
 * @param follow wait for an unreachable server at first (a daemon may start
 *   before it); else fail at once. Either way a lost connection is
 *   re-established, however long it takes.
 */
export async function connectNats(options: NatsOptions, follow: boolean): Promise<{ nats: NatsModule; nc: NatsConnection }> {
  const nats = await loadNats();
  const o = withEnvironment(options);
  const opts: ConnectionOptions = {
    servers: o.servers as string[],
    name: o.name,
    // Ride out a server restart (the shipper bounds a --once run by giveUpAfter).
    maxReconnectAttempts: -1,
    // A following shipper or puller (a daemon) may start before its server: wait for it.
    waitOnFirstConnect: follow,
    reconnectTimeWait: 250,
    // Fail at once on a wrong password instead of retrying it.
    ignoreAuthErrorAbort: false,
    // Async traces capture two Error stacks per request (every publish awaits
    // an ack as a request): about 14 KB of garbage a message, the most of a
    // one-record-per-message shipper's memory. Our errors name what failed.
    noAsyncTraces: true,
  };
  if (o.user !== undefined) opts.user = o.user;
  if (o.password !== undefined) opts.pass = o.password;
  if (o.token !== undefined) opts.token = o.token;
  if (o.credsFile !== undefined) {
    const { readFileSync } = await import('node:fs');
    const creds = readFileSync(o.credsFile);
    opts.authenticator = nats.credsAuthenticator(creds);
  }
  if (o.tlsCaFile !== undefined || o.tlsCertFile !== undefined) {
    opts.tls = {};
    if (o.tlsCaFile !== undefined) opts.tls.caFile = o.tlsCaFile;
    if (o.tlsCertFile !== undefined) opts.tls.certFile = o.tlsCertFile;
    if (o.tlsKeyFile !== undefined) opts.tls.keyFile = o.tlsKeyFile;
  }
  try {
    return { nats, nc: await nats.connect(opts) };
  } catch (err) {
    const code = (err as { code?: string }).code;
    const where = serverList(o);
    if (code === 'AUTHORIZATION_VIOLATION' || code === 'AUTHENTICATION_EXPIRED' || /authori[sz]ation|authentication/i.test(String(err))) {
      throw codedError(ERR_NATS_AUTH, `NATS server ${where} refused the credentials (check the user and password, token or credentials file)`, err);
    }
    throw codedError(ERR_NATS_CONNECT, `Cannot connect to NATS server ${where}: ${(err as Error).message}`, err);
  }
}
