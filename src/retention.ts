/**
 * Keeping backups within bounds, and compressing sealed ones.
 *
 * The directory listing is the only truth: no index file, no side database
 * that can drift from the files (a known failure of
 * winston-daily-rotate-file's and pino-roll's audit files). Retention
 * deletes the oldest backups first and always keeps the newest one, so
 * that the next open still numbers on from it: backup numbers are never
 * reused.
 *
 * Compression writes `<backup>.gz.tmp`, renames it to `<backup>.gz`, then
 * removes the plain backup. A crash at any point leaves the plain backup
 * readable (listBackups prefers it over a `.gz` of the same seq) and a
 * `.gz.tmp` that the next open removes before compressing again.
 */
import { createReadStream, createWriteStream, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { isErrno } from './errors.js';
import type { FsOps } from './fsops.js';
import { GZIP_SUFFIX, listBackups, splitName, type Backup } from './naming.js';

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
 * Delete the oldest backups of the log at `path` until every limit holds,
 * never the newest. Returns the paths deleted, oldest first.
 */
export function applyRetention(path: string, limits: RetentionLimits, fs: FsOps, now = Date.now()): string[] {
  const backups = listBackups(path);
  const sized = backups.map((b) => ({ ...b, stat: fs.statSync(b.path) })).filter((b) => b.stat !== undefined);
  let total = sized.reduce((sum, b) => sum + b.stat!.size, 0);
  const deleted: string[] = [];
  for (let i = 0; i < sized.length - 1; i++) {
    const b = sized[i]!;
    const left = sized.length - i;
    const tooMany = limits.maxFiles !== undefined && left > limits.maxFiles;
    const tooBig = limits.maxTotalSize !== undefined && total > limits.maxTotalSize;
    const tooOld = limits.maxAge !== undefined && now - b.stat!.mtimeMs > limits.maxAge;
    if (!tooMany && !tooBig && !tooOld) break;
    try {
      fs.unlinkSync(b.path);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    total -= b.stat!.size;
    deleted.push(b.path);
  }
  return deleted;
}

const TMP_SUFFIX = '.tmp';

/** Remove `.gz.tmp` files a crash left while compressing backups of `path`. */
export function removeCompressionLeftovers(path: string): void {
  const { dir, stem } = splitName(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(`${stem}.`) && name.endsWith(GZIP_SUFFIX + TMP_SUFFIX)) rmSync(join(dir, name), { force: true });
  }
}

/** The plain (uncompressed) backups of `path`, oldest first. */
export function plainBackups(path: string): Backup[] {
  return listBackups(path).filter((b) => !b.gzip);
}

/**
 * Compress one sealed backup to `<backup>.gz` and remove the plain file.
 * Resolves to the .gz path, or undefined if the backup is gone (retention).
 */
export async function compressBackup(backup: string): Promise<string | undefined> {
  const gz = backup + GZIP_SUFFIX;
  const tmp = gz + TMP_SUFFIX;
  try {
    statSync(backup);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  try {
    await pipeline(createReadStream(backup), createGzip(), createWriteStream(tmp, { flush: true }));
    renameSync(tmp, gz);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  rmSync(backup, { force: true });
  return gz;
}
