/**
 * Which files make up the log at a path, as the CLI needs to know before
 * calling the library: whether there is a log at all (so a typo reads as
 * "no log", not as an empty one) and, for the demo, whether it holds bytes.
 */
import { existsSync, statSync } from 'node:fs';
// TODO(merge): listBackups is not a public export; if the reader branch moves the log's file listing, import it from there.
import { listBackups } from '../naming.js';
import { Failure } from './command.js';

/** The files of the log at `path`: its backups in seq order, then the current file if it exists. */
export function logFiles(path: string): Array<{ path: string; size: number }> {
  const paths = listBackups(path).map((b) => b.path);
  if (existsSync(path)) paths.push(path);
  return paths.map((p) => ({ path: p, size: statSync(p).size }));
}

/** True if there is a current file or a backup at `path`. */
export function logExists(path: string): boolean {
  return existsSync(path) || listBackups(path).length > 0;
}

/** Fail (exit 1) if there is no log at `path`: no current file and no backup. */
export function requireLog(path: string): void {
  if (!logExists(path)) throw new Failure(`no log at ${path}: no current file and no backups`);
}
