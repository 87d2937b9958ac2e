/**
 * logStats(): what a log holds, file by file, from one scan of it (scan.ts)
 * with two consumers: verify()'s (problems, records per file) and the
 * payload sizes kept here.
 */
import { basename } from 'node:path';
import type { RecordCursor } from './read/cursor.js';
import { scanLog, type ScanConsumer } from './scan.js';
import { prepareVerify, type VerifyProblem } from './verify.js';

/** logStats()'s consumer of the scan: payload sizes. */
class PayloadSizes implements ScanConsumer {
  bytes = 0;
  min = -1;
  max = -1;
  record(cursor: RecordCursor): void {
    const length = cursor.length;
    this.bytes += length;
    if (this.min < 0 || length < this.min) this.min = length;
    if (length > this.max) this.max = length;
  }
}

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
 * @throws as verify() does (ENOENT when there is no log).
 * @example
 * ```ts
 * const { totals, payload } = logStats('./logs/events.bin');
 * console.log(`${totals.records} records, ${payload?.mean ?? 0} bytes on average`);
 * ```
 */
export function logStats(filePath: string | URL): LogStats {
  const { path, verifier } = prepareVerify(filePath);
  const sizes = new PayloadSizes();
  const report = verifier.report(scanLog(path, [verifier, sizes]));
  const totals = { files: report.files.length, bytes: 0, records: 0, payloadBytes: sizes.bytes };
  for (const f of report.files) {
    totals.bytes += f.size;
    totals.records += f.records;
  }
  const backups = report.files.filter((f) => f.seq >= 0);
  return {
    files: report.files.map(({ path, seq, size, records }) => ({ name: basename(path), path, seq, size, records })),
    totals,
    payload: totals.records > 0 ? { min: sizes.min, mean: totals.payloadBytes / totals.records, max: sizes.max } : null,
    backups: backups.length > 0 ? { first: backups[0]!.seq, last: backups[backups.length - 1]!.seq } : null,
    problems: report.problems,
  };
}
