/**
 * Backup file names: `<stem>.<seq><ext>` beside the current file
 * (`logs/events.bin` -> `logs/events.0.bin`; `events` -> `events.0`).
 *
 * Stem and extension are split exactly as Python's pathlib does, so names
 * match the original's: the extension is the last `.xxx` of the name unless
 * the name starts with that dot or ends with a dot (`.hidden`, `foo.` have
 * no extension).
 */
import { basename, dirname, join } from 'node:path';
import { nodeFs, type FsOps } from './fsops.js';

export interface NameParts {
  /** Directory holding the current file and its backups. */
  dir: string;
  /** File name of the current file. */
  base: string;
  stem: string;
  /** Extension with its dot, or ''. */
  ext: string;
}

export function splitName(path: string): NameParts {
  const base = basename(path);
  const dot = base.lastIndexOf('.');
  const hasExt = dot > 0 && dot < base.length - 1;
  return {
    dir: dirname(path),
    base,
    stem: hasExt ? base.slice(0, dot) : base,
    ext: hasExt ? base.slice(dot) : '',
  };
}

/** The path of backup number `seq` of the log whose current file is `path`. */
export function backupPath(path: string, seq: number): string {
  const { dir, stem, ext } = splitName(path);
  return join(dir, `${stem}.${seq}${ext}`);
}

/** Suffix a sealed backup gets when compressed (issue 6 retention). */
export const GZIP_SUFFIX = '.gz';

/**
 * The seq of `name` if it is a backup name of the log `parts` describes,
 * else -1. Only canonical decimal numbers count: `events.01.bin`,
 * `events.x.bin` and numbers beyond Number.MAX_SAFE_INTEGER are look-alikes,
 * not part of the log.
 */
export function parseBackupSeq(name: string, parts: NameParts): number {
  const { stem, ext } = parts;
  if (name.length < stem.length + 2 + ext.length) return -1;
  if (!name.startsWith(stem) || name.charCodeAt(stem.length) !== 0x2e /* . */ || !name.endsWith(ext)) return -1;
  const digits = name.slice(stem.length + 1, name.length - ext.length);
  if (digits.length === 0 || digits.length > 16) return -1;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
  }
  if (digits.length > 1 && digits.charCodeAt(0) === 0x30) return -1;
  const seq = Number(digits);
  return Number.isSafeInteger(seq) ? seq : -1;
}

/** Like parseBackupSeq, also taking a compressed backup (`events.3.bin.gz`). */
function parseBackupName(name: string, parts: NameParts): { seq: number; gzip: boolean } | undefined {
  const seq = parseBackupSeq(name, parts);
  if (seq >= 0) return { seq, gzip: false };
  if (!name.endsWith(GZIP_SUFFIX)) return undefined;
  const zseq = parseBackupSeq(name.slice(0, -GZIP_SUFFIX.length), parts);
  return zseq >= 0 ? { seq: zseq, gzip: true } : undefined;
}

export interface Backup {
  seq: number;
  path: string;
  /** True for a gzip-compressed sealed backup (`<stem>.<seq><ext>.gz`). */
  gzip: boolean;
}

/**
 * The backups of the log whose current file is `path`, in numeric order of
 * seq (10 after 9). The directory listing is the only truth. When both
 * `events.3.bin` and `events.3.bin.gz` exist (a crash while compressing),
 * the plain file wins.
 */
export function listBackups(path: string, fs: FsOps = nodeFs): Backup[] {
  const parts = splitName(path);
  let names: string[];
  try {
    names = fs.readdirSync(parts.dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const bySeq = new Map<number, Backup>();
  for (const name of names) {
    const parsed = parseBackupName(name, parts);
    if (!parsed) continue;
    const { seq, gzip } = parsed;
    const known = bySeq.get(seq);
    if (known && !known.gzip) continue;
    bySeq.set(seq, { seq, path: join(parts.dir, name), gzip });
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** The seq the next rollover takes: one above the highest backup, or 0. */
export function nextSeq(backups: readonly Backup[]): number {
  const last = backups[backups.length - 1];
  return last ? last.seq + 1 : 0;
}

/**
 * Name of the empty file a rollover prepares before sealing the current
 * file. It starts with a dot so that it never matches a backup name.
 */
export function rolloverTempPath(path: string): string {
  const { dir, base } = splitName(path);
  return join(dir, `.${base}.next`);
}
