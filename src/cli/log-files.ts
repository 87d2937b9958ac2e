/**
 * Which files make up the log at a path, as the CLI needs to know before
 * calling the library: whether there is a log at all (so a typo reads as
 * "no log", not as an empty one) and, for the demo, whether it holds bytes.
 * Both come from the readers' one snapshot of a log's files.
 */
import { statSync } from 'node:fs';
import { takeSnapshot } from '../read/snapshot.js';
import { Failure } from './command.js';

/** The files of the log at `path`: its backups in seq order, then the current file if it exists. */
export function logFiles(path: string): Array<{ path: string; size: number }> {
  const { backups, current } = takeSnapshot(path);
  const files = backups.map((b) => ({ path: b.path, size: statSync(b.path).size }));
  if (current) files.push({ path, size: current.size });
  return files;
}

/** True if there is a current file or a backup at `path`. */
export function logExists(path: string): boolean {
  const { backups, current } = takeSnapshot(path);
  return current !== undefined || backups.length > 0;
}

/** Fail (exit 1) if there is no log at `path`: no current file and no backup. */
export function requireLog(path: string): void {
  if (!logExists(path)) throw new Failure(`no log at ${path}: no current file and no backups`);
}
