/**
 * Warnings in tests: an expected warning is captured and asserted by the
 * test that expects it, never printed, so that a green run prints no
 * `(node:...) Warning` line and a real one stands out in CI.
 *
 * One gate per thread stands in for Node's own printers on 'warning': a
 * warning goes to the captures active at the time if there are any, else to
 * Node's printers as before. Captures and mutes can overlap in any order
 * (each removes only itself), which saving and restoring the listener list
 * per helper could not promise.
 */
import type { TestContext } from 'node:test';
import type { HasAfter } from '../helpers.js';

/** A process warning as a listener receives it. */
export type Warning = Error & { code?: string; detail?: string };

const sinks = new Set<Warning[]>();
const mutes = new Set<(w: Warning) => boolean>();
let printers: Array<(w: Warning) => void> | undefined;

function installGate(): void {
  if (printers) return;
  printers = process.listeners('warning') as Array<(w: Warning) => void>;
  process.removeAllListeners('warning');
  process.on('warning', (w: Warning) => {
    for (const muted of mutes) if (muted(w)) return;
    if (sinks.size > 0) for (const seen of sinks) seen.push(w);
    else for (const print of printers!) print.call(process, w);
  });
}

/**
 * Collect the warnings of this thread from now until stop(), instead of
 * printing them. For code without a test context (crash loop, workers).
 */
export function collectWarnings(): { seen: Warning[]; stop(): void } {
  installGate();
  const seen: Warning[] = [];
  sinks.add(seen);
  return { seen, stop: () => void sinks.delete(seen) };
}

/**
 * Collect the process warnings emitted while the test runs, and keep them
 * off stderr until the test ends, so an expected warning is asserted, never
 * printed. Warnings are emitted on the next tick: await one before asserting.
 */
export function captureWarnings(t: HasAfter): Warning[] {
  const { seen, stop } = collectWarnings();
  t.after(stop);
  return seen;
}

/** Warnings with `code` whose message names `path`. */
export function warningsFor(seen: readonly Warning[], code: string, path: string): Warning[] {
  return seen.filter((w) => w.code === code && w.message.includes(path));
}

/** Drop the warnings `match` picks, and only those, until the test ends. */
export function muteWarnings(t: HasAfter, match: (w: Warning) => boolean): void {
  installGate();
  mutes.add(match);
  // A warning is emitted on a later tick than the call that raised it, and
  // after-hooks can run first: keep the mute one turn of the loop longer.
  t.after(() => new Promise<void>((resolve) => setImmediate(() => resolve(void mutes.delete(match)))));
}

/** Node's notice that MockTimers is experimental: about the test tool, not the code under test. */
export function isMockTimersNotice(w: Warning): boolean {
  return w.name === 'ExperimentalWarning' && w.message.startsWith('The MockTimers API');
}

/**
 * t.mock.timers.enable(options), without Node's ExperimentalWarning about
 * MockTimers (that one warning, by its type and words; any other still
 * prints). The timers are reset when the test ends, as t.mock's are.
 */
export function mockTimers(t: TestContext, options: Parameters<TestContext['mock']['timers']['enable']>[0]): void {
  muteWarnings(t, isMockTimersNotice);
  t.mock.timers.enable(options);
}
