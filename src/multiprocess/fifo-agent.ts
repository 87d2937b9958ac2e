/**
 * A client agent's part in its caller's FIFO pair (fifo-caller.ts says why
 * the pair exists): it makes the pair for each connection to an owner,
 * offers it after the token check, hands the caller its two blocking
 * descriptors once the owner has taken it, and wakes the caller when the
 * owner dies or stops.
 *
 * Making a pair: a private directory (mkdtemp: 0700) in os.tmpdir(), two
 * FIFOs made with `mkfifo -m 600` (Node has no mkfifo(3)). The temp
 * directory, not the log's: it is on a local file system that has FIFOs
 * (a log directory may be NFS or a FUSE mount without them), readers and
 * repair never list it, and a leftover there is swept by the OS. The agent
 * opens both FIFOs O_RDWR and non-blocking (open never blocks, and the
 * pipes live while it holds them). The owner unlinks both names once it
 * has opened them, and so does the agent when the owner answers: a SIGKILL
 * after that leaves nothing in the directory. The caller then opens its own
 * blocking ends from the agent's descriptors, `/proc/self/fd/<fd>` (a new
 * open of the same pipe, needing no name). It must open them itself: Node
 * closes the descriptors a worker thread opened when that thread exits, so
 * descriptors handed over from the agent would be closed (or, reused,
 * someone else's) under the caller. macOS has no /proc: there the agent
 * offers no pair and clients keep the mailbox. If mkfifo is missing or
 * fails, or the owner says no, the caller keeps the mailbox too.
 *
 * Waking the caller: the agent's write end of the reply FIFO means the
 * caller never sees EOF when the owner dies; instead the agent, which
 * learns of the death from its socket (or of a stop from its stall check),
 * writes a WAKE frame there.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { FrameType, jsonFrame } from './protocol.js';
import { FIFO_LIVE, FIFO_SINCE, fifoAge, type FifoGrant } from './slots.js';

/** What the agent's link offers the owner. */
export interface FifoOfferTarget {
  offerFifo(paths: { request: string; reply: string }): void;
}

/** The command that makes a FIFO (an environment override lets tests make it fail). */
const MKFIFO = process.env.BINLOG_MKFIFO ?? 'mkfifo';

interface Pair {
  /** The lock content of the owner it is for. */
  owner: string;
  dir: string;
  /** The agent's own ends, O_RDWR | O_NONBLOCK: request, reply. */
  holds: [number, number];
  /** The owner took it and the caller was told (else it is offered, unanswered). */
  handed: boolean;
}

export class AgentFifos {
  readonly #ctl: Int32Array;
  readonly #reply: MessagePort;
  readonly #debug: (what: string) => void;
  #pair: Pair | undefined;
  #generation = 0;
  /**
   * An owner (its lock content) that said no, or ended the connection
   * before answering our offer (an owner that does not know FIFO frames
   * closes the connection on one): we do not offer it a pair again.
   */
  #declinedBy: string | undefined;

  constructor(ctl: Int32Array, reply: MessagePort, debug: (what: string) => void) {
    this.#ctl = ctl;
    this.#reply = reply;
    this.#debug = debug;
  }

  /** Make a pair and offer it to the owner (`owner`: its lock content) on `link`, after WELCOME. */
  offer(link: FifoOfferTarget, owner: string): void {
    this.retire();
    // The caller reopens our ends through /proc (see the module comment).
    if (process.platform !== 'linux' || owner === this.#declinedBy) return;
    const generation = this.#generation;
    let dir: string;
    try {
      dir = mkdtempSync(join(tmpdir(), 'binlog-fifo-'));
    } catch (err) {
      this.#debug(`no FIFO pair: ${(err as Error).message}`);
      return;
    }
    const request = join(dir, 'request');
    const reply = join(dir, 'reply');
    execFile(MKFIFO, ['-m', '600', request, reply], (err) => {
      if (err || generation !== this.#generation) {
        if (err) this.#debug(`no FIFO pair: ${err.message}`);
        rmSync(dir, { recursive: true, force: true });
        return;
      }
      const fds: number[] = [];
      try {
        for (const p of [request, reply]) fds.push(openSync(p, constants.O_RDWR | constants.O_NONBLOCK));
      } catch (err) {
        for (const fd of fds) closeSync(fd);
        rmSync(dir, { recursive: true, force: true });
        this.#debug(`no FIFO pair: ${(err as Error).message}`);
        return;
      }
      this.#pair = { owner, dir, holds: [fds[0]!, fds[1]!], handed: false };
      link.offerFifo({ request, reply });
    });
  }

  /** The owner's answer to our offer. */
  answered(ok: boolean, reason: unknown): void {
    const pair = this.#pair;
    if (!pair || pair.handed) return;
    rmSync(pair.dir, { recursive: true, force: true });
    if (!ok) {
      this.#debug(`owner refused the FIFO pair: ${String(reason)}`);
      this.#declinedBy = pair.owner;
      this.retire();
      return;
    }
    pair.handed = true;
    const grant: FifoGrant = { type: 'fifo', generation: this.#generation, request: pair.holds[0], reply: pair.holds[1] };
    // Live before the caller can see the grant: it checks.
    Atomics.store(this.#ctl, FIFO_LIVE, this.#generation);
    this.#reply.postMessage(grant);
  }

  /**
   * Ms the caller's batch in flight on the pair has waited, or -1 if none.
   * For the stall check: the caller blocks in read(2) and cannot look itself.
   */
  inFlightFor(): number {
    return this.#pair?.handed ? fifoAge(Atomics.load(this.#ctl, FIFO_SINCE)) : -1;
  }

  /** The connection is over (lost, stalled, closing): wake the caller if it waits on the pair, and let go. */
  retire(): void {
    // A pair still being made for the old connection is dropped when made.
    this.#generation++;
    const pair = this.#pair;
    if (!pair) return;
    this.#pair = undefined;
    if (!pair.handed) this.#declinedBy = pair.owner;
    Atomics.store(this.#ctl, FIFO_LIVE, 0);
    if (pair.handed) {
      try {
        writeSync(pair.holds[1], jsonFrame(FrameType.WAKE, {}));
      } catch {
        // a full pipe: the caller is not waiting on it
      }
    } else rmSync(pair.dir, { recursive: true, force: true });
    for (const fd of pair.holds) closeSync(fd);
  }
}
