/**
 * Keeping backups within bounds, and compressing sealed ones.
 *
 * The directory listing is the only truth: no index file, no side database
 * that can drift from the files (a known failure of
 * winston-daily-rotate-file's and pino-roll's audit files). Retention
 * deletes the oldest backups first and always keeps the newest one, so
 * that the next open still numbers on from it: backup numbers are never
 * reused. The one thing besides the listing it reads is a shipper's
 * checkpoint file, which only ever holds deletion back (see applyRetention).
 *
 * Compression writes `<backup>.gz.<random>.tmp`, renames it to
 * `<backup>.gz`, then removes the plain backup. A crash at any point leaves
 * the plain backup readable (listBackups prefers it over a `.gz` of the same
 * seq) and a temp file that the next open removes before compressing
 * again. The temp name is the compressor's own: a former multi-process
 * owner that resumes mid-compression never writes into, renames or removes
 * its successor's temp file (issue 11).
 */
import { createReadStream, createWriteStream, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { isErrno } from './errors.js';
import type { FsOps } from './fsops.js';
import { GZIP_SUFFIX, listBackups, splitName, type Backup } from './naming.js';
import { checkpointPositions } from './ship/checkpoint.js';
import { WARN_UNSHIPPED_DROPPED } from './ship/errors.js';

export interface RetentionLimits {
  /** Keep at most this many backups (>= 1). */
  maxFiles?: number | undefined;
  /** Keep the backups' total size (bytes on disk) at most this. */
  maxTotalSize?: number | undefined;
  /** Delete backups last modified more than this many ms ago. */
  maxAge?: number | undefined;
}

/** True if any limit is set. */
export function hasLimits(limits: RetentionLimits): boolean {
  return limits.maxFiles !== undefined || limits.maxTotalSize !== undefined || limits.maxAge !== undefined;
}

/**
 * Apply the limits to the backups of the log at `path`, never deleting the
 * newest. Returns the paths deleted, oldest first.
 *
 * - maxFiles deletes the oldest backups until at most maxFiles are left.
 * - maxAge judges each backup on its own merits: every backup last modified
 *   more than maxAge ago goes, whatever its number (mtimes need not follow
 *   numbers: a backup copied back, or compressed later; issue 10, item 8).
 * - maxTotalSize then deletes the oldest until the total fits.
 *
 * Shipping (issue 12, item 3): a shipper's checkpoint file beside the log
 * (`.<name>.ship-<key>.json`, likewise a puller's) holds the position it has
 * reached; backups from that position's seq on are not finished. maxFiles
 * and maxAge wait for the shipper and keep them. maxTotalSize is the hard
 * limit that protects the disk: it still deletes them, and warns with
 * BINLOG_UNSHIPPED_DROPPED naming what was dropped unshipped.
 */
export function applyRetention(path: string, limits: RetentionLimits, fs: FsOps, now = Date.now()): string[] {
  const sized = listBackups(path)
    .map((b) => ({ ...b, stat: fs.statSync(b.path) }))
    .filter((b): b is Backup & { stat: NonNullable<typeof b.stat> } => b.stat !== undefined);
  const checkpoints = checkpointPositions(path);
  const unshippedFrom = checkpoints.reduce((min, c) => Math.min(min, c.position.seq), Infinity);
  const doomed = new Set<number>();
  // The newest backup is never deleted: numbering goes on from it.
  const candidates = sized.slice(0, -1);
  if (limits.maxFiles !== undefined) {
    let left = sized.length;
    for (const b of candidates) {
      if (left <= limits.maxFiles || b.seq >= unshippedFrom) break;
      doomed.add(b.seq);
      left--;
    }
  }
  if (limits.maxAge !== undefined) {
    for (const b of candidates) if (now - b.stat.mtimeMs > limits.maxAge && b.seq < unshippedFrom) doomed.add(b.seq);
  }
  const unshipped: string[] = [];
  if (limits.maxTotalSize !== undefined) {
    let total = sized.reduce((sum, b) => sum + (doomed.has(b.seq) ? 0 : b.stat.size), 0);
    for (const b of candidates) {
      if (total <= limits.maxTotalSize) break;
      if (doomed.has(b.seq)) continue;
      doomed.add(b.seq);
      total -= b.stat.size;
      if (b.seq >= unshippedFrom) unshipped.push(b.path);
    }
  }
  const deleted: string[] = [];
  for (const b of candidates) {
    if (!doomed.has(b.seq)) continue;
    try {
      fs.unlinkSync(b.path);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    deleted.push(b.path);
  }
  if (unshipped.length > 0) {
    process.emitWarning(
      `maxTotalSize deleted ${unshipped.length} backup(s) of "${path}" that a shipper had not finished: ${unshipped.join(', ')} (checkpoints: ${checkpoints.map((c) => c.file).join(', ')}); their records were not shipped`,
      { code: WARN_UNSHIPPED_DROPPED },
    );
  }
  return deleted;
}

const TMP_SUFFIX = '.tmp';

/** A compression's temp file: `<backup>.gz.<hex>.tmp`, or `<backup>.gz.tmp` as earlier versions named it. */
const COMPRESS_TEMP = /\.gz(?:\.[0-9a-f]+)?\.tmp$/;

/** Remove the temp files a crash left while compressing backups of `path`. */
export function removeCompressionLeftovers(path: string): void {
  const { dir, stem } = splitName(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(`${stem}.`) && COMPRESS_TEMP.test(name)) rmSync(join(dir, name), { force: true });
  }
}

/** The plain (uncompressed) backups of `path`, oldest first. */
export function plainBackups(path: string): Backup[] {
  return listBackups(path).filter((b) => !b.gzip);
}

/**
 * Compress one sealed backup to `<backup>.gz` and remove the plain file.
 * Resolves to the .gz path, or undefined if the backup is gone (retention)
 * or `owns()` says this process no longer owns the log: a multi-process
 * owner that lost its lock (fencing) renames and removes nothing.
 */
export async function compressBackup(backup: string, owns: () => boolean = () => true): Promise<string | undefined> {
  const gz = backup + GZIP_SUFFIX;
  const tmp = `${gz}.${randomBytes(4).toString('hex')}${TMP_SUFFIX}`;
  try {
    statSync(backup);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  try {
    await pipeline(createReadStream(backup), createGzip(), createWriteStream(tmp, { flush: true }));
    if (!owns()) {
      rmSync(tmp, { force: true });
      return undefined;
    }
    renameSync(tmp, gz);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  if (owns()) rmSync(backup, { force: true });
  return gz;
}
