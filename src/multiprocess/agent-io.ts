/**
 * What the agent thread (agent.ts) says outside its protocol: debug lines
 * on stderr, and warnings, which belong to its caller's thread.
 */
import { writeSync } from 'node:fs';
import type { MessagePort } from 'node:worker_threads';

const DEBUG = process.env.BINLOG_DEBUG_AGENT === '1';

/** `BINLOG_DEBUG_AGENT=1`: role changes and lost connections on stderr (docs/ARCHITECTURE.md, Debugging). */
export function debug(what: string): void {
  if (DEBUG) writeSync(2, `[agent ${process.pid}] ${what}\n`);
}

/**
 * Warnings of this thread (a torn tail cut when taking over, ...) belong to
 * the caller's thread, where the application listens for them: post them
 * there instead of emitting them here.
 */
export function forwardWarnings(reply: MessagePort): void {
  process.emitWarning = ((warning: string | Error, options?: { code?: string; detail?: string } | string) => {
    const message = typeof warning === 'string' ? warning : warning.message;
    const opts = typeof options === 'object' ? options : {};
    reply.postMessage({ type: 'warning', message, code: opts.code, detail: opts.detail });
  }) as typeof process.emitWarning;
}
