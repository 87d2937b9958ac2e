/**
 * Waiting on a condition in the shipping tests: a shipper, a puller or a
 * server gets there in its own time, which on a loaded machine can be a
 * hundred times slower than on an idle one. So a test waits for the
 * condition itself, with a bound only to fail instead of hanging, and that
 * bound is generous: a slow machine is slow, never wrong.
 */

/** Default bound of waitUntil: 2 minutes. */
export const WAIT_BOUND_MS = 120_000;

export interface WaitOptions {
  /** Fail after this many ms. Defaults to WAIT_BOUND_MS. */
  bound?: number;
  /** Ms between two looks. Defaults to 50. */
  interval?: number;
  /** What the failure message says of the state at the last look. */
  state?: () => string | Promise<string>;
}

/**
 * Resolve once `check()` is true; reject after `bound` ms with an Error
 * naming `what` was awaited and the state at the last look.
 */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, { bound = WAIT_BOUND_MS, interval = 50, state }: WaitOptions = {}): Promise<void> {
  const deadline = Date.now() + bound;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      throw new Error(`Waited ${bound} ms for ${what}${state ? `; at the last look: ${await state()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
