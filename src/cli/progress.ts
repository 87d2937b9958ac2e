/** A progress bar on stderr, for verify on a large log. */

/** Logs at least this large get a progress bar (on a terminal). */
export const PROGRESS_MIN_BYTES = 64 * 1024 * 1024;

/** A progress bar on stderr, drawn only on a terminal and for a large log. */
export class ProgressBar {
  #shown = false;
  #last = 0;
  constructor(readonly label: string) {}

  update(done: number, total: number): void {
    if (!process.stderr.isTTY || total < PROGRESS_MIN_BYTES) return;
    const now = Date.now();
    // Redraw at most ten times a second: a terminal is slower than the scan.
    if (this.#shown && now - this.#last < 100 && done < total) return;
    this.#last = now;
    this.#shown = true;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const mib = (n: number): string => (n / (1024 * 1024)).toFixed(1);
    const pct = String(Math.floor((done / total) * 100)).padStart(3);
    process.stderr.write(`\r${this.label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${pct}% ${mib(done)}/${mib(total)} MiB`);
  }

  /** Clear the bar's line, so that what follows starts at column 0. */
  end(): void {
    if (this.#shown) process.stderr.write('\r\x1b[K');
    this.#shown = false;
  }
}
