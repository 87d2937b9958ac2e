/**
 * Test helper: a real nats-server with JetStream on a free loopback port and
 * a temporary store directory, started and stopped by the tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Path of nats-server, or undefined when it is not installed (tests then skip). */
export const NATS_SERVER: string | undefined = (() => {
  const r = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path ? path : undefined;
})();

/** The reason given when nats-server is missing, for `test(..., { skip })`. */
export const SKIP_NO_SERVER = NATS_SERVER ? false : 'nats-server is not installed (apt-get install nats-server; .ci/run does it)';

/** A free TCP port on 127.0.0.1 (the OS picks it; the listener is closed again). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface ServerOptions {
  /** Extra lines of nats-server configuration (accounts, authorization, cluster...). */
  config?: string;
  /** Reuse this port (a restart keeps its URL). */
  port?: number;
  /** Reuse this store directory (a restart keeps the streams). */
  storeDir?: string;
}

export class NatsServer {
  readonly port: number;
  readonly storeDir: string;
  readonly url: string;
  #proc: ChildProcess;
  #exited: Promise<void>;
  #ownDir: boolean;
  #config: string | undefined;

  private constructor(port: number, storeDir: string, ownDir: boolean, proc: ChildProcess, config: string | undefined) {
    this.port = port;
    this.storeDir = storeDir;
    this.url = `nats://127.0.0.1:${port}`;
    this.#proc = proc;
    this.#ownDir = ownDir;
    this.#config = config;
    this.#exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  /** Start a server and resolve once it accepts connections. */
  static async start(options: ServerOptions = {}): Promise<NatsServer> {
    if (!NATS_SERVER) throw new Error('nats-server is not installed');
    const port = options.port ?? (await freePort());
    const ownDir = options.storeDir === undefined;
    const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'binlog-nats-'));
    const args = ['-js', '-sd', join(storeDir, 'js'), '-a', '127.0.0.1', '-p', String(port)];
    if (options.config) {
      const conf = join(storeDir, 'server.conf');
      writeFileSync(conf, options.config);
      args.push('-c', conf);
    }
    const proc = spawn(NATS_SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 20_000) stderr += d;
    });
    const server = new NatsServer(port, storeDir, ownDir, proc, options.config);
    // A loaded machine can take many seconds to start a process: wait long, fail only if it never listens.
    const deadline = Date.now() + 60_000;
    // Poll the port: nats-server has no readiness signal but its listener.
    while (!(await canConnect(port))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`nats-server did not start on port ${port}: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return server;
  }

  /** SIGKILL the server (a crash) and wait for it to be gone; the store stays. */
  async kill(): Promise<void> {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill('SIGKILL');
    await this.#exited;
  }

  /** Stop the server and remove its store directory if the helper made it. */
  async stop(): Promise<void> {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill('SIGTERM');
    await this.#exited;
    if (this.#ownDir) rmSync(this.storeDir, { recursive: true, force: true });
  }

  /** Start again on the same port, store and configuration (after kill()). */
  async restart(): Promise<NatsServer> {
    const again = await NatsServer.start({ port: this.port, storeDir: this.storeDir, ...(this.#config ? { config: this.#config } : {}) });
    // The store directory stays the first instance's to remove.
    again.#ownDir = this.#ownDir;
    return again;
  }
}

/** Every record in `stream` on `subject`, in stream order, as the shipper framed them. */
export async function streamRecords(url: string, stream: string, subject?: string): Promise<{ payloads: Buffer[]; messages: number; logs: string[]; counts: number[] }> {
  const { connect } = await import('nats');
  const { checkBody, forEachPayload, readMeta } = await import('../../src/ship/framing.js');
  // In a cluster that just lost a node, a request may time out while a leader is elected.
  const { retryTransient } = await import('../../src/ship/stream.js');
  const nc = await connect({ servers: url });
  try {
    const jsm = await nc.jetstreamManager({ checkAPI: false });
    const info = await retryTransient(() => jsm.streams.info(stream), 30_000);
    const payloads: Buffer[] = [];
    const logs: string[] = [];
    /** Records per message, in stream order. */
    const counts: number[] = [];
    let messages = 0;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await retryTransient(() => jsm.streams.getMessage(stream, { seq }), 30_000);
      if (subject && m.subject !== subject) continue;
      const meta = readMeta((n) => m.header.get(n), `message ${seq}`);
      logs.push(meta.log);
      counts.push(meta.count);
      checkBody(m.data, meta, `message ${seq}`);
      forEachPayload(m.data, meta, 0, (p) => payloads.push(Buffer.from(p)));
      messages++;
    }
    return { payloads, messages, logs, counts };
  } finally {
    await nc.close();
  }
}

/**
 * A three-node JetStream cluster on loopback ports (issue 12: more than one
 * server). Resolves once JetStream answers (a meta leader is elected).
 */
export async function startCluster(size = 3): Promise<NatsServer[]> {
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`).join(', ');
  const servers = await Promise.all(
    ports.map((port, i) =>
      NatsServer.start({
        port,
        config: `server_name: n${i}\ncluster {\n  name: binlog\n  listen: 127.0.0.1:${routePorts[i]}\n  routes: [${routes}]\n}\n`,
      }),
    ),
  );
  const { connect } = await import('nats');
  const nc = await connect({ servers: servers.map((s) => s.url) });
  try {
    const deadline = Date.now() + 120_000; // leader elections on a loaded machine
    for (;;) {
      try {
        const jsm = await nc.jetstreamManager();
        await jsm.getAccountInfo();
        // A stream with 3 replicas needs every peer known to the meta leader.
        const probe = await jsm.streams.add({ name: 'PROBE', subjects: ['probe'], num_replicas: size });
        await jsm.streams.delete(probe.config.name);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await nc.close();
  }
  return servers;
}
