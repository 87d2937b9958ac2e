/**
 * The torn-tail-versus-corruption policy, in one place (LevelDB's log
 * reader hands this to a Reporter): what a cursor's stop means in a given
 * file of a log.
 *
 * - A clean end is the end of the file's records.
 * - A torn tail (a possible record cut short) at the end of the *current*
 *   file is end of data: it may be a write in progress, or the last write
 *   of a process that died. In a backup, sealed whole by a rollover, it is
 *   corruption (reason `'torn-tail'`).
 * - A bad length (an impossible record, longer than MAX_PAYLOAD_BYTES and
 *   past the end of its file) is corruption in any file (reason
 *   `'bad-length'`): not a log, or a corrupt one.
 */
import { CorruptLogError } from '../errors.js';
import type { Stop } from './records.js';

/** The CorruptLogError a reader throws for `stop` in the file at `path`, or undefined when it is end of data. */
export function stopError(path: string, isCurrent: boolean, stop: Stop): CorruptLogError | undefined {
  if (stop.reason === 'clean') return undefined;
  if (stop.reason === 'torn-tail' && isCurrent) return undefined;
  return new CorruptLogError(path, stop.offset, stop.reason, stop.detail);
}

/**
 * How verify() reports `stop`: `'torn-tail'` for a torn tail of the current
 * file (readers stop quietly), `'length-past-end'` where readers throw
 * ERR_LOG_CORRUPT, undefined for a clean end.
 */
export function stopProblem(isCurrent: boolean, stop: Stop): 'torn-tail' | 'length-past-end' | undefined {
  if (stop.reason === 'clean') return undefined;
  return stopError('', isCurrent, stop) ? 'length-past-end' : 'torn-tail';
}
