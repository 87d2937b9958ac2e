/**
 * What the caller's thread and its agent thread share: the Int32 slots of
 * their control SharedArrayBuffer and the messages between them.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Settings } from '../writer/options.js';

/** Id of the last batch done (acknowledged by the owner, or refused with an error). */
export const ACKED = 0;
/** ROLE_* below. */
export const ROLE = 1;
/** Bumped (and notified) on every change the caller may wait for. */
export const WAKE = 2;
export const CTL_SLOTS = 4;

export const ROLE_STARTING = 0;
export const ROLE_CLIENT = 1;
export const ROLE_OWNER = 2;
/** Could not open: the reason waits on the reply port. */
export const ROLE_FAILED = 3;
export const ROLE_CLOSED = 4;

/** The agent's workerData. */
export interface AgentData {
  path: string;
  settings: Settings;
  ctl: SharedArrayBuffer;
  reply: MessagePort;
}

/** Caller -> agent. */
export type ToAgent = { type: 'batch'; id: number; records: Uint8Array } | { type: 'close' };

/** Agent -> caller, on the reply port. */
export interface AgentMessage {
  type: 'error' | 'rotate' | 'failed' | 'warning';
  id?: number;
  code?: string;
  message?: string;
  detail?: string;
  syscall?: string;
  path?: string;
  written?: number;
  value?: unknown;
}
