// Number formatting and statistics shared by the driver, its tables and its
// charts, so a number reads the same in RESULTS.md and in a chart.

/** 1234567 -> '1,234,567'. */
export function fmtInt(n) {
  return Math.round(n).toLocaleString('en-US');
}

/** A fixed number of digits, or 'n/a'. */
export function fmt(n, digits = 1) {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

/** A rate with a unit prefix: '4.27 M', '365.1 k', '950'. */
export function fmtRate(n) {
  if (!Number.isFinite(n)) return 'n/a';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

/** A ratio as the tables print it: '1.07x'. */
export function fmtRatio(r) {
  return Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a';
}

/** The median of a list of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The q-quantile (0..1) of an ascending list, nearest rank: p99 of 2,000 samples is the 1,980th. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** A Markdown table, columns padded, `align` one 'l' or 'r' per column. */
export function table(headers, lines, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  const row = (cells) => `| ${cells.map((c, i) => (align[i] === 'r' ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [row(headers), sep, ...lines.map(row)].join('\n');
}
