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
/** Bumped by the agent each time it becomes the owner; an OwnerGrant names its epoch. */
export const OWNER_EPOCH = 3;
/** Id of the last batch the caller put in the mailbox (the agent waits on it with Atomics.waitAsync). */
export const SENT = 4;
/** Bytes of framed records of that batch, after its BATCH_HEAD_BYTES frame head. */
export const SENT_BYTES = 5;
/** The generation of the caller's FIFO pair the agent keeps live (0: none); see fifo-agent.ts. */
export const FIFO_LIVE = 6;
/** 0, or fifoStamp() of when the caller wrote the batch it now waits for on its FIFO pair. */
export const FIFO_SINCE = 7;
export const CTL_SLOTS = 8;

/** Milliseconds on a 30-bit clock, never 0: a time fits one Int32 slot. */
const CLOCK = 2 ** 30;
export function fifoStamp(now = Date.now()): number {
  return (now % CLOCK) + 1;
}

/** Ms since `stamp` (a fifoStamp()), or -1 for 0 (nothing in flight). */
export function fifoAge(stamp: number, now = Date.now()): number {
  return stamp === 0 ? -1 : (fifoStamp(now) - stamp + CLOCK) % CLOCK;
}

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
  /**
   * The caller's batches, each as a whole BATCH frame (head and records),
   * when they fit: the caller waits until a batch is done before it puts
   * the next one there, so one buffer serves without a copy per batch.
   */
  mailbox: SharedArrayBuffer;
  reply: MessagePort;
}

/** Caller -> agent: a batch too large for the mailbox (its buffer transferred), a rotation the caller made as the owner, or close. */
export type ToAgent = { type: 'batch'; id: number; records: Uint8Array } | { type: 'rotated'; backup: string } | { type: 'close' };

/**
 * Agent -> caller: a FIFO pair the owner took (fifo-agent.ts), as the
 * agent's descriptors of its two FIFOs; the caller opens its own ends from
 * them. `generation` is live while the FIFO_LIVE slot names it.
 */
export interface FifoGrant {
  type: 'fifo';
  generation: number;
  request: number;
  reply: number;
}

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
