/**
 * The options every process of one log must agree on: those that decide
 * what the files look like (when to roll over, what to keep, whether to
 * compress) and whether a commit is synced to the disk. A client whose
 * options differ from the owner's is refused at open with
 * ERR_LOGGER_OPTIONS_MISMATCH naming each option.
 */
import { ERR_LOGGER_OPTIONS_MISMATCH, type CodedError } from '../errors.js';

export { ERR_LOGGER_OPTIONS_MISMATCH };

export interface FileShape {
  maxFileSize: number;
  maxFiles: number | null;
  maxTotalSize: number | null;
  maxAge: number | null;
  compress: boolean;
  /** 'fsync' and 'buffered-fsync' sync every commit; 'sync' and 'buffered' do not. */
  fsync: boolean;
}

const KEYS = ['maxFileSize', 'maxFiles', 'maxTotalSize', 'maxAge', 'compress', 'fsync'] as const;

export function fileShape(s: {
  maxFileSize: number;
  maxFiles?: number | undefined;
  maxTotalSize?: number | undefined;
  maxAge?: number | undefined;
  compress: boolean;
  durability: string;
}): FileShape {
  return {
    maxFileSize: s.maxFileSize,
    maxFiles: s.maxFiles ?? null,
    maxTotalSize: s.maxTotalSize ?? null,
    maxAge: s.maxAge ?? null,
    compress: s.compress,
    fsync: s.durability === 'fsync' || s.durability === 'buffered-fsync',
  };
}

/** The options in which `mine` differs from `owner`'s, in words; empty if none. */
export function shapeDifferences(mine: unknown, owner: FileShape): string[] {
  const m = (typeof mine === 'object' && mine !== null ? mine : {}) as Record<string, unknown>;
  const out: string[] = [];
  for (const key of KEYS) {
    if (m[key] !== owner[key]) {
      const name = key === 'fsync' ? 'durability (fsync or not)' : key;
      out.push(`"${name}" is ${show(m[key])} here but ${show(owner[key])} in the owner`);
    }
  }
  return out;
}

function show(v: unknown): string {
  return v === null || v === undefined ? 'unset' : String(v);
}

export function optionsMismatch(path: string, ownerPid: number, differences: readonly string[]): CodedError {
  const err = new Error(
    `The log "${path}" is open in process ${ownerPid} with other options: ${differences.join('; ')}. Every process must open it with the same maxFileSize, maxFiles, maxTotalSize, maxAge, compress and durability class`,
  ) as CodedError;
  err.code = ERR_LOGGER_OPTIONS_MISMATCH;
  return err;
}
