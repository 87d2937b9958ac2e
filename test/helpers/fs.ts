/**
 * File-system faults for the injectable `fs` object (src/fsops.ts): one
 * method throws an OS error on chosen calls, with the code, syscall and path
 * a real failure carries.
 */
import { nodeFs, type FsOps } from '../../src/fsops.js';

/** Which calls of the method fail, and how. */
export interface FailingOptions {
  /** How many of the calls `when` accepts fail in a row (more with failMore()). Defaults to 1. */
  times?: number;
  /** How many accepted calls succeed before the first failure. Defaults to 0. */
  skip?: number;
  /** The error code thrown. Defaults to 'EIO'. */
  code?: string;
  /** Which calls count at all (by their arguments). Defaults to every call. */
  when?: (...args: unknown[]) => boolean;
}

/**
 * FsOps whose `method` throws an injected OS error on the calls `when`
 * accepts: `skip` of them succeed, then `times` of them fail.
 * `calls()` counts the accepted calls, `failures()` the injected errors.
 */
export function failingFs(
  method: keyof FsOps,
  { times = 1, skip = 0, code = 'EIO', when = () => true }: FailingOptions = {},
): { fs: FsOps; calls: () => number; failures: () => number; failMore(n: number): void } {
  let calls = 0;
  let failures = 0;
  let left = times;
  const original = nodeFs[method] as (...args: unknown[]) => unknown;
  const fs: FsOps = {
    ...nodeFs,
    [method]: (...args: unknown[]) => {
      if (!when(...args)) return original(...args);
      if (calls++ >= skip && left > 0) {
        left--;
        failures++;
        throw Object.assign(new Error(`${code}: injected failure, ${method} '${String(args[0])}'`), {
          code,
          syscall: method.replace(/Sync$/, ''),
          path: String(args[0]),
        });
      }
      return original(...args);
    },
  };
  return { fs, calls: () => calls, failures: () => failures, failMore: (n) => (left += n) };
}
