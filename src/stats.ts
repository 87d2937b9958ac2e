/**
 * logStats(): what a log holds, file by file, from one verify() pass.
 */
import { basename } from 'node:path';
import { scanLog, type VerifyProblem } from './verify.js';

export interface LogStats {
  /** Every file of the log in reading order: backups by seq, then the current file. */
  files: Array<{
    /** File name, without the directory. */
    name: string;
    /** Absolute path. */
    path: string;
    /** Backup number, or -1 for the current file. */
    seq: number;
    /** Bytes in the file. */
    size: number;
    /** Whole records readable from it. */
    records: number;
  }>;
  totals: {
    files: number;
    /** Bytes of all files. */
    bytes: number;
    records: number;
    /** Bytes of all payloads (without the length prefixes). */
    payloadBytes: number;
  };
  /** Payload sizes in bytes; null when the log has no records. */
  payload: { min: number; mean: number; max: number } | null;
  /** Lowest and highest backup number; null when there are no backups. */
  backups: { first: number; last: number } | null;
  /** What verify() found; the counts above cover the whole records only. */
  problems: VerifyProblem[];
}

/**
 * Files, sizes, record counts and payload sizes of the log whose current
 * file is `filePath`. Reads every file once, with bounded memory.
 *
 * @throws as verify() does.
 * @example
 * ```ts
 * const { totals, payload } = logStats('./logs/events.bin');
 * console.log(`${totals.records} records, ${payload?.mean ?? 0} bytes on average`);
 * ```
 */
export function logStats(filePath: string | URL): LogStats {
  const scan = scanLog(filePath);
  const totals = { files: scan.files.length, bytes: 0, records: 0, payloadBytes: 0 };
  let min = -1;
  let max = -1;
  for (const f of scan.files) {
    totals.bytes += f.size;
    totals.records += f.records;
    totals.payloadBytes += f.payloadBytes;
    if (f.minPayload >= 0 && (min < 0 || f.minPayload < min)) min = f.minPayload;
    if (f.maxPayload > max) max = f.maxPayload;
  }
  const backups = scan.files.filter((f) => f.seq >= 0);
  return {
    files: scan.files.map(({ path, seq, size, records }) => ({ name: basename(path), path, seq, size, records })),
    totals,
    payload: totals.records > 0 ? { min, mean: totals.payloadBytes / totals.records, max } : null,
    backups: backups.length > 0 ? { first: backups[0]!.seq, last: backups[backups.length - 1]!.seq } : null,
    problems: scan.problems,
  };
}
