/**
 * repair(): make a log read whole again without losing a byte.
 *
 * What a reader cannot read is never deleted: the bytes from a bad record
 * to the end of its file are copied into a side file beside it
 * (`events.3.bin.corrupt-40`: the file's name, then the offset they came
 * from), the copy is synced, and only then is the file cut back to its last
 * whole record. A crash in between leaves the bytes in both places, never
 * in neither. Side-file names never look like backups, so readers and
 * loggers leave them alone.
 *
 * It runs under the log's lock file, so it never races a live logger: with
 * one open, it throws ERR_LOGGER_PATH_IN_USE and changes nothing.
 *
 * Every change goes through an FsOps object (fsops.ts), so that tests can
 * fail each write, link, rename, truncate and fsync in turn and check the
 * promise above (test/repair-faults.test.ts).
 */
import { basename, dirname, join } from 'node:path';
import { invalidArgType, isErrno } from './errors.js';
import { CREATE_NEW_FLAGS, DIR_FLAGS, READ_WRITE_FLAGS, copyRangeSynced, nodeFs, type FsOps } from './fsops.js';
import { releaseLock, takeLock } from './lockfile.js';
import { READ_CHUNK_BYTES } from './read/records.js';
import { optionalBoolean, toPath } from './validate.js';
import { verify, type VerifyProblem, type VerifyReport } from './verify.js';

export interface RepairOptions {
  /** Only say what would be done; change nothing. Defaults to false. */
  dryRun?: boolean;
}

/** One change repair() made (or, in a dry run, would make). */
/** What every repair action says: the file, where, why, and in words. */
interface RepairActionBase {
  /** The file changed. */
  path: string;
  /** Byte offset the change starts at. */
  offset: number;
  /** The problem this fixes. */
  problem: VerifyProblem;
  /** What was (or would be) done, in words. */
  message: string;
}

/**
 * One change repair() makes (or would make), by kind:
 * - `'set-aside'`: bytes from `offset` to the end of `path` copied into
 *   `sideFile`, then `path` cut to `offset` bytes (torn tails, records
 *   running past the end of a backup, and a stray temporary file that holds
 *   bytes, from offset 0).
 * - `'remove-temp'`: an empty temporary file of an interrupted rollover removed.
 * - `'unlink-current'`: a current file that was a second name (hard link)
 *   for the last backup removed; its bytes stay in the backup. The next
 *   logger creates a fresh current file.
 */
export type RepairAction =
  | (RepairActionBase & {
      action: 'set-aside';
      /** Bytes moved into `sideFile`. */
      bytes: number;
      /** Where the bytes went. */
      sideFile: string;
    })
  | (RepairActionBase & {
      action: 'remove-temp' | 'unlink-current';
      /** No bytes move. */
      bytes: 0;
      sideFile?: undefined;
    });

export interface RepairReport {
  dryRun: boolean;
  /** What was done (or would be), in order. */
  actions: RepairAction[];
  /**
   * Problems repair cannot fix: numbering gaps (the bytes are gone),
   * unreadable files, and bad records in a compressed backup (decompress it
   * by hand, then repair).
   */
  unfixed: VerifyProblem[];
  /** True when the log verifies clean after the repair (after the one described, in a dry run). */
  ok: boolean;
}

/**
 * Fix what verify() finds that can be fixed without losing bytes: set aside
 * torn tails and records running past the end of a backup into side files
 * and cut the files back to whole records, remove the leftovers of an
 * interrupted rollover. With `dryRun`, only reports what it would do.
 *
 * @throws TypeError `ERR_INVALID_ARG_TYPE` for bad arguments; Error
 *   `ERR_LOGGER_PATH_IN_USE` if a logger has the log open (nothing is
 *   changed); the OS error if a file cannot be copied or cut (what was done
 *   before it stays done, and every byte is still in the file or its copy).
 * @example
 * ```ts
 * const plan = repair('./logs/events.bin', { dryRun: true });
 * for (const a of plan.actions) console.log(a.message);
 * if (plan.actions.length > 0) repair('./logs/events.bin');
 * ```
 */
export function repair(filePath: string | URL, options: RepairOptions = {}): RepairReport {
  return repairWith(filePath, options, nodeFs);
}

/** repair(), making its changes through `fs`. @internal for fault-injection tests. */
export function repairWith(filePath: string | URL, options: RepairOptions, fs: FsOps): RepairReport {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
  const path = toPath(filePath);
  const { dryRun = false } = options;
  const dry = optionalBoolean(dryRun, 'dryRun', false);

  let report = verify(path);
  let plan = planRepair(report, true, fs);
  if (dry || plan.actions.length === 0) return { dryRun: dry, ...plan };

  const lock = takeLock(path, fs);
  try {
    // The log may have changed between the first look and taking the lock.
    report = verify(path);
    plan = planRepair(report, false, fs);
    for (const action of plan.actions) apply(action, fs);
  } finally {
    releaseLock(lock, fs);
  }
  return { dryRun: false, ...plan };
}

function planRepair(report: VerifyReport, dry: boolean, fs: FsOps): Omit<RepairReport, 'dryRun'> {
  const actions: RepairAction[] = [];
  const unfixed: VerifyProblem[] = [];
  const taken = new Set<string>();
  // The offsets of a compressed backup are in its decompressed bytes: it is not cut in place.
  const compressed = new Set(report.files.filter((f) => f.gzip).map((f) => f.path));
  for (const problem of report.problems) {
    const { kind, path, offset } = problem;
    switch (kind) {
      case 'torn-tail':
      case 'length-past-end': {
        if (compressed.has(path)) {
          unfixed.push(problem);
          break;
        }
        const size = fs.statSync(path)?.size ?? offset;
        const sideFile = sideFileFor(path, offset, taken, fs);
        const bytes = size - offset;
        const verb = dry ? 'would set aside' : 'set aside';
        actions.push({
          action: 'set-aside',
          path,
          offset,
          bytes,
          sideFile,
          problem,
          message: `${verb} ${bytes} bytes of ${path} from byte ${offset} (${kind}) into ${sideFile}, and cut the file to ${offset} bytes`,
        });
        break;
      }
      case 'stray-temp': {
        const size = fs.statSync(path)?.size ?? 0;
        if (size === 0) {
          actions.push({
            action: 'remove-temp',
            path,
            offset: 0,
            bytes: 0,
            problem,
            message: `${dry ? 'would remove' : 'removed'} the empty temporary file ${path} of an interrupted rollover`,
          });
        } else {
          // A rollover's temporary file is always empty; keep whatever this is.
          const visible = join(dirname(path), basename(path).replace(/^\.+/, ''));
          const sideFile = sideFileFor(visible, 0, taken, fs);
          actions.push({
            action: 'set-aside',
            path,
            offset: 0,
            bytes: size,
            sideFile,
            problem,
            message: `${dry ? 'would move' : 'moved'} the temporary file ${path} of an interrupted rollover (${size} bytes) to ${sideFile}`,
          });
        }
        break;
      }
      case 'interrupted-rollover':
        actions.push({
          action: 'unlink-current',
          path,
          offset: 0,
          bytes: 0,
          problem,
          message: `${dry ? 'would remove' : 'removed'} ${path}, a second name for the last backup left by an interrupted rollover (its records stay in the backup)`,
        });
        break;
      default:
        // numbering-gap: the missing bytes are gone; unreadable: nothing to read.
        unfixed.push(problem);
    }
  }
  return { actions, unfixed, ok: unfixed.length === 0 };
}

/** `<path>.corrupt-<offset>`, or with `.1`, `.2`, ... if that name is taken. */
function sideFileFor(path: string, offset: number, taken: Set<string>, fs: FsOps): string {
  const base = `${path}.corrupt-${offset}`;
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? base : `${base}.${i}`;
    if (!taken.has(candidate) && fs.statSync(candidate) === undefined) {
      taken.add(candidate);
      return candidate;
    }
  }
}

function apply(action: RepairAction, fs: FsOps): void {
  const { path } = action;
  switch (action.action) {
    case 'remove-temp':
    case 'unlink-current':
      try {
        fs.unlinkSync(path);
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
      syncDir(dirname(path), fs);
      return;
    case 'set-aside':
      if (action.problem.kind === 'stray-temp') {
        // rename(2) keeps every byte; the side name was free a moment ago,
        // and link+unlink would refuse to replace it if it no longer is.
        linkThenUnlink(path, action.sideFile, fs);
      } else {
        setAside(path, action.offset, action.sideFile, fs);
      }
      syncDir(dirname(path), fs);
      return;
  }
}

function linkThenUnlink(from: string, to: string, fs: FsOps): void {
  try {
    // link fails with EEXIST where rename would overwrite.
    fs.linkSync(from, to);
  } catch (err) {
    if (!isErrno(err, 'EPERM') && !isErrno(err, 'ENOTSUP') && !isErrno(err, 'EOPNOTSUPP')) throw err;
    fs.renameSync(from, to); // no hard links on this file system
    return;
  }
  fs.unlinkSync(from);
}

/** Copy `path`'s bytes from `offset` into a new `sideFile`, sync it, then cut `path` to `offset`. */
function setAside(path: string, offset: number, sideFile: string, fs: FsOps): void {
  const fd = fs.openSync(path, READ_WRITE_FLAGS);
  try {
    const size = fs.fstatSync(fd).size;
    const out = fs.openSync(sideFile, CREATE_NEW_FLAGS, 0o644);
    try {
      copyRangeSynced(fs, fd, out, offset, size, READ_CHUNK_BYTES);
    } finally {
      fs.closeSync(out);
    }
    // Only now that the copy is on disk may the bytes leave the file.
    fs.ftruncateSync(fd, offset);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function syncDir(dir: string, fs: FsOps): void {
  let fd = -1;
  try {
    fd = fs.openSync(dir, DIR_FLAGS);
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the change is made.
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}
