/**
 * The stream a shipper publishes into (issue 12, item 1): created if
 * missing, with the settings below; extended with the shipper's subject if
 * it exists without it.
 *
 * Settings of a stream the shipper creates: file storage, limits retention
 * (messages stay until a limit removes them; no limit is set), discard old,
 * `replicas` copies (1 on a single server, 3 in a cluster for RAFT
 * replication), the duplicate window (default 2 minutes, the server's
 * default), and allow_direct (reads served by any replica).
 */
import type { JetStreamManager } from 'nats';
import type { NatsModule } from './connection.js';
import { ERR_SHIP_STREAM, codedError } from './errors.js';

export interface StreamSettings {
  /** Copies of each message in a cluster. Defaults to 1. */
  replicas?: number;
  /** Window in ms within which the server drops a repeated message id. Defaults to 120000 (2 minutes). */
  duplicateWindow?: number;
}

/** True if the NATS subject pattern `pattern` (with `*` and `>`) matches every subject `subject` matches. */
export function subjectCovers(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return i < s.length;
    if (i >= s.length) return false;
    if (p[i] === '*') {
      if (s[i] === '>') return false;
      continue;
    }
    if (p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/**
 * True for failures that pass by themselves: a timeout, no responders while a
 * cluster elects a leader, JetStream "temporarily unavailable" (10008), a
 * connection being re-established. The shipper retries these.
 */
export function isTransient(err: unknown): boolean {
  const e = err as { code?: string; api_error?: { err_code?: number; code?: number } } | undefined;
  if (!e) return false;
  if (e.api_error) return e.api_error.err_code === 10008 || e.api_error.code === 503;
  return ['TIMEOUT', '503', 'DISCONNECT', 'CONNECTION_CLOSED', 'CONNECTION_REFUSED', 'CONNECTION_DRAINING'].includes(e.code ?? '');
}

/** How long shipper and puller wait out a server or cluster that does not answer (a leader election, a dead node), by default. */
export const TRANSIENT_WAIT_MS = 60_000;

/** Call `fn` until it succeeds or fails for a reason that is not transient, for at most `forMs`. */
export async function retryTransient<T>(fn: () => Promise<T>, forMs: number): Promise<T> {
  const deadline = Date.now() + forMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: string; api_error?: { err_code?: number } };
  return e.api_error?.err_code === 10059 || e.code === '404';
}

/** Make sure `stream` exists and takes `subject`; throws ERR_SHIP_STREAM saying what to configure. */
export async function ensureStream(
  nats: NatsModule,
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  settings: StreamSettings = {},
): Promise<void> {
  const { replicas = 1, duplicateWindow = 120_000 } = settings;
  let info;
  try {
    info = await jsm.streams.info(stream);
  } catch (err) {
    if (!isNotFound(err)) throw codedError(ERR_SHIP_STREAM, `Cannot look up stream "${stream}": ${(err as Error).message}`, err);
  }
  if (!info) {
    try {
      await jsm.streams.add({
        name: stream,
        subjects: [subject],
        storage: nats.StorageType.File,
        retention: nats.RetentionPolicy.Limits,
        discard: nats.DiscardPolicy.Old,
        num_replicas: replicas,
        duplicate_window: nats.nanos(duplicateWindow),
        allow_direct: true,
      });
      return;
    } catch (err) {
      throw codedError(
        ERR_SHIP_STREAM,
        `Cannot create stream "${stream}" for subject "${subject}": ${(err as Error).message}. Create it yourself (nats stream add ${stream} --subjects '${subject}' --storage file) or grant this user $JS.API.STREAM.CREATE.${stream}`,
        err,
      );
    }
  }
  const subjects = info.config.subjects ?? [];
  if (subjects.some((p) => subjectCovers(p, subject))) return;
  try {
    await jsm.streams.update(stream, { ...info.config, subjects: [...subjects, subject] });
  } catch (err) {
    throw codedError(
      ERR_SHIP_STREAM,
      `Stream "${stream}" does not take subject "${subject}" and adding it failed: ${(err as Error).message}. Add the subject to the stream (nats stream edit ${stream} --subjects '${[...subjects, subject].join(',')}') or ship under one of ${JSON.stringify(subjects)}`,
      err,
    );
  }
}
