/**
 * The owner's housekeeping: retention at open, and gzip of sealed backups
 * one after another in the background (the `compress` option). Only the
 * logger that opened the log runs it; rotations in other threads reach it
 * through the commit path's events.
 */
import type { FsOps } from '../fsops.js';
import { applyRetention, compressBackup, hasLimits, plainBackups, removeCompressionLeftovers } from '../retention.js';
import type { Settings } from './options.js';

/** Where housekeeping reports: the BinaryLogger's 'compress' and 'error'. */
export interface HousekeepingReports {
  compressed(gzPath: string): void;
  failed(error: unknown): void;
  /**
   * False once this process no longer owns the log (a multi-process owner
   * fenced or closed): compression then renames and removes nothing.
   * Defaults to always true.
   */
  owns?(): boolean;
}

export class Housekeeping {
  readonly #path: string;
  readonly #settings: Settings;
  readonly #fs: FsOps;
  readonly #reports: HousekeepingReports;
  /** Backups waiting to be compressed, in order. */
  #compressing: Promise<void> = Promise.resolve();

  constructor(path: string, settings: Settings, fs: FsOps, reports: HousekeepingReports) {
    this.#path = path;
    this.#settings = settings;
    this.#fs = fs;
    this.#reports = reports;
  }

  /** At open: retention, and compression a crash left undone. */
  atOpen(): void {
    if (hasLimits(this.#settings)) {
      try {
        applyRetention(this.#path, this.#settings, this.#fs);
      } catch (err) {
        this.#reports.failed(err);
      }
    }
    if (this.#settings.compress) {
      removeCompressionLeftovers(this.#path);
      for (const backup of plainBackups(this.#path)) this.#compress(backup.path);
    }
  }

  /** A backup was sealed (by any thread). */
  rotated(backup: string): void {
    if (this.#settings.compress) this.#compress(backup);
  }

  /** Resolves once every backup queued so far is compressed. */
  whenCompressed(): Promise<void> {
    return this.#compressing;
  }

  /** Compress a sealed backup after those queued before it. */
  #compress(backup: string): void {
    this.#compressing = this.#compressing.then(async () => {
      try {
        const owns = this.#reports.owns ?? (() => true);
        if (!owns()) return;
        const gz = await compressBackup(backup, owns);
        if (gz) this.#reports.compressed(gz);
      } catch (err) {
        this.#reports.failed(err);
      }
    });
  }
}

/**
 * The buffered modes' timer: commit what waits in the staging buffer at
 * most `interval` ms after the first record went in. Unref'd: it never
 * keeps the process alive (the exit hooks flush instead).
 */
export class FlushTimer {
  readonly #interval: number;
  readonly #onFire: () => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(interval: number, onFire: () => void) {
    this.#interval = interval;
    this.#onFire = () => {
      this.#timer = undefined;
      onFire();
    };
  }

  /** Start the countdown unless it runs already (or the interval is 0: no timer). */
  arm(): void {
    if (this.#timer || this.#interval === 0) return;
    this.#timer = setTimeout(this.#onFire, this.#interval);
    this.#timer.unref();
  }

  clear(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}
