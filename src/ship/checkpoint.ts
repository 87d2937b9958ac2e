/**
 * Checkpoint files beside a log (issue 12, items 3 and 4).
 *
 * A shipper's checkpoint, `.<current file name>.ship-<key>.json`, holds the
 * highest position the server has acknowledged contiguously (every record
 * before it is in the stream) and the stream sequence of the message that
 * ended there. Retention reads every such file beside the log and keeps the
 * backups a shipper has not finished (see ../retention.ts).
 *
 * A puller's checkpoint, `.<current file name>.pull-<key>.json`, holds the
 * last stream sequence whose records are all in the local log, and the local
 * log's end position just after them.
 *
 * Both are written atomically (a temp file, fdatasync, rename) so a crash
 * leaves the old checkpoint or the new one, never a torn one. The names start
 * with a dot so they never match a backup name, and this module loads no
 * NATS code: retention, in the core, imports it.
 */
import { closeSync, fdatasyncSync, openSync, readFileSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Position } from '../reader.js';
import { ERR_CHECKPOINT_CORRUPT, codedError } from './errors.js';

/** A shipper's progress on one log into one stream and subject. */
export interface ShipCheckpoint {
  version: 1;
  /** The log's identity in the stream (message ids and the Binlog-Log header). */
  log: string;
  stream: string;
  subject: string;
  /** Every record before this position has been acknowledged by the server. */
  position: Position;
  /** Stream sequence of the message that ended at `position` (0: none yet). */
  streamSeq: number;
}

/** A puller's progress from one stream into one local log. */
export interface PullCheckpoint {
  version: 1;
  stream: string;
  filter: string;
  /** Every message up to this stream sequence has all its records in the local log. */
  streamSeq: number;
  /** The local log's end, just after the last record of message `streamSeq`. */
  position: Position;
}

const SHIP_INFIX = '.ship-';
const PULL_INFIX = '.pull-';
const SUFFIX = '.json';

function key(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 16);
}

/** Path of the shipper checkpoint for `logPath` shipped to `stream`/`subject`. */
export function shipCheckpointPath(logPath: string, stream: string, subject: string): string {
  return join(dirname(logPath), `.${basename(logPath)}${SHIP_INFIX}${key(stream, subject)}${SUFFIX}`);
}

/** Path of the puller checkpoint for the local log `logPath` pulled from `stream`/`filter`. */
export function pullCheckpointPath(logPath: string, stream: string, filter: string): string {
  return join(dirname(logPath), `.${basename(logPath)}${PULL_INFIX}${key(stream, filter)}${SUFFIX}`);
}

/** Write `value` as JSON to `path` atomically and durably. */
export function writeCheckpoint(path: string, value: ShipCheckpoint | PullCheckpoint): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(value) + '\n');
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function isPosition(p: unknown): p is Position {
  const q = p as Position;
  return typeof q === 'object' && q !== null && Number.isSafeInteger(q.seq) && q.seq >= 0 && Number.isSafeInteger(q.offset) && q.offset >= 0;
}

/** Read a checkpoint; undefined if there is none. Throws ERR_CHECKPOINT_CORRUPT naming the file. */
export function readCheckpoint<T extends ShipCheckpoint | PullCheckpoint>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw codedError(ERR_CHECKPOINT_CORRUPT, `Checkpoint "${path}" is not JSON; delete it to start over from the stream`, err);
  }
  const v = value as T;
  if (typeof v !== 'object' || v === null || v.version !== 1 || !isPosition(v.position) || !Number.isSafeInteger(v.streamSeq)) {
    throw codedError(ERR_CHECKPOINT_CORRUPT, `Checkpoint "${path}" is not a binlog checkpoint; delete it to start over from the stream`);
  }
  return v;
}

/**
 * The positions every shipper (and puller) of `logPath` has reached, one per
 * checkpoint file beside it: retention keeps every backup from the lowest
 * one's seq on. A file that cannot be read counts as position {0, 0}: an
 * unreadable checkpoint must not let retention delete what it protects.
 */
export function checkpointPositions(logPath: string): Array<{ file: string; position: Position }> {
  const dir = dirname(logPath);
  const ship = `.${basename(logPath)}${SHIP_INFIX}`;
  const pull = `.${basename(logPath)}${PULL_INFIX}`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: Array<{ file: string; position: Position }> = [];
  for (const name of names) {
    if (!(name.startsWith(ship) || name.startsWith(pull)) || !name.endsWith(SUFFIX)) continue;
    const file = join(dir, name);
    let position: Position = { seq: 0, offset: 0 };
    try {
      position = readCheckpoint<ShipCheckpoint>(file)?.position ?? position;
    } catch {
      // Unreadable: keep the conservative {0, 0}.
    }
    out.push({ file, position });
  }
  return out;
}
