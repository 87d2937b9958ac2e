/**
 * What ship() and pull() return: a job running in the background that can
 * be stopped (it finishes what is in flight and writes its checkpoint) and
 * awaited.
 */

/** A running shipper or puller. */
export interface Job<R> {
  /** Resolves when the job ends (with `once`, when caught up; else after stop()); rejects on a fatal error. */
  readonly done: Promise<R>;
  /** Stop: what is in flight is finished and the checkpoint written; resolves as `done`. */
  stop(): Promise<R>;
}

/** Start `run` with a signal that `stop()` and the caller's own `signal` both abort. */
export function startJob<R>(signal: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<R>): Job<R> {
  const ac = new AbortController();
  signal?.addEventListener('abort', () => ac.abort(), { once: true });
  if (signal?.aborted) ac.abort();
  const done = run(ac.signal);
  // A rejection is the caller's to see through `done`; never an unhandled one here.
  done.catch(() => {});
  return {
    done,
    stop: () => {
      ac.abort();
      return done;
    },
  };
}
