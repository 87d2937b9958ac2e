/**
 * Flush buffered loggers when the process (or worker thread) ends: on
 * process.exit(), when the event loop runs dry, after an uncaught exception,
 * and on SIGINT, SIGTERM and SIGHUP.
 *
 * Signals: Node's default for these is to die without running 'exit'
 * listeners. While a buffered logger is open we listen, flush, and then, if
 * no other listener wants the signal, remove ourselves and raise it again,
 * so the process still dies *by that signal* (exit status 128+n, as a shell
 * sees it). If the application has its own listener, the signal is its to
 * handle, and we only flush.
 */
import { isMainThread } from 'node:worker_threads';

export interface Flushable {
  /** Hand buffered records to the OS; must not throw. */
  flushOnExit(): void;
}

const open = new Set<Flushable>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function flushAll(): void {
  for (const logger of open) logger.flushOnExit();
}

function onSignal(signal: NodeJS.Signals): void {
  flushAll();
  if (process.listenerCount(signal) > 1) return;
  uninstall();
  process.kill(process.pid, signal);
}

function install(): void {
  installed = true;
  process.on('exit', flushAll);
  // A worker cannot receive signals: only the main thread listens.
  if (isMainThread) for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  installed = false;
  process.off('exit', flushAll);
  if (isMainThread) for (const s of SIGNALS) process.off(s, onSignal);
}

export function registerForExit(logger: Flushable): void {
  open.add(logger);
  if (!installed) install();
}

export function unregisterForExit(logger: Flushable): void {
  open.delete(logger);
  if (open.size === 0 && installed) uninstall();
}
