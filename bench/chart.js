// Hand-written SVG charts for the benchmark (no dependency): a horizontal
// bar chart (one bar per contender) and a grouped column chart (T1: threads
// on the axis). This module only lays out what it is given: which rows are
// ours, what each label says and how the axis is formatted are the caller's
// (charts.js).
//
// Text cannot be measured without a renderer, so widths are estimated from
// per-character advances of DejaVu Sans / Verdana (the widest common sans
// fonts, and the first two in FONT): with any narrower fallback text only
// gets shorter, so nothing computed to fit here overflows.

const FONT = 'Verdana, DejaVu Sans, Bitstream Vera Sans, sans-serif';
const OURS = '#1f6feb';
const OURS_LIGHT = '#7cb3ff';
const PEER = '#a3abb5';
const INK = '#1f2328';
const MUTED = '#59636e';
const GRID = '#e4e7eb';
const FAIL = '#cf222e';
const MARGIN = 16;

/** Advance widths in em of DejaVu Sans (Verdana is within a few %). */
const NARROW = new Set("il.,:;'|!()[]{}` ");
const SEMI = new Set('fjrtI-/"');
const WIDE = new Set('mwMW@%');

/**
 * Estimated width in px of `text` at `size` px, rounded up a little: an
 * overestimate is a few px of white space, an underestimate is overflow.
 */
export function textWidth(text, size, bold = false) {
  let em = 0;
  for (const ch of String(text)) {
    if (NARROW.has(ch)) em += 0.34;
    else if (SEMI.has(ch)) em += 0.45;
    else if (WIDE.has(ch)) em += 0.98;
    else if (ch >= 'A' && ch <= 'Z') em += 0.74;
    else if (ch.codePointAt(0) > 0x2e80) em += 1.0; // CJK, emoji: full width
    else em += 0.64; // lower case, digits, most symbols
  }
  return Math.ceil(em * size * (bold ? 1.15 : 1) * 1.04); // Verdana Bold runs 11-13% wider than Verdana
}

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const px = (n) => Math.round(n * 10) / 10;

function text(x, y, s, { size = 12, weight, fill = INK, anchor, halo = false } = {}) {
  const attrs = [`x="${px(x)}"`, `y="${px(y)}"`, `font-size="${size}"`, `fill="${fill}"`];
  if (weight) attrs.push(`font-weight="${weight}"`);
  if (anchor) attrs.push(`text-anchor="${anchor}"`);
  // A white outline under the glyphs keeps a label readable where a line crosses it.
  if (halo) attrs.push('stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"');
  return `<text ${attrs.join(' ')}>${esc(s)}</text>`;
}

/** Break `s` into lines no wider than `width` px at `size` px, at spaces. */
export function wrap(s, width, size, bold = false) {
  const lines = [];
  let line = '';
  for (const word of String(s).split(' ')) {
    const next = line ? `${line} ${word}` : word;
    if (line && textWidth(next, size, bold) > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

/** About `count` round tick values from 0 to at least `max`: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(max, count = 5) {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * pow).find((s) => s >= raw);
  const ticks = [];
  for (let v = 0; v < max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

/** A linear axis from 0: its ticks, and at(value) -> px from the axis. */
function linearAxis(values, length) {
  const ticks = niceTicks(Math.max(0, ...values));
  const scale = length / ticks[ticks.length - 1];
  return { ticks, at: (v) => v * scale };
}

/**
 * A log axis over whole decades around the values (for latencies, whose
 * median and 99th percentile can be 100x apart): its ticks, and at(value).
 */
function logAxis(values, length) {
  const positive = values.filter((v) => v > 0);
  const lo = Math.floor(Math.log10(positive.length ? Math.min(...positive) : 1));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(positive.length ? Math.max(...positive) : 10)));
  const ticks = [];
  for (let e = lo; e <= hi; e++) ticks.push(Number((10 ** e).toPrecision(12)));
  const scale = length / (hi - lo);
  return { ticks, at: (v) => (v > 0 ? Math.max(0, (Math.log10(v) - lo) * scale) : 0) };
}

/** Title, subtitle and legend at the top: the SVG parts and the y where the plot may start. */
function header({ title, subtitle, legend = [] }, width) {
  const parts = [];
  let y = MARGIN + 16;
  for (const line of wrap(title, width - 2 * MARGIN, 16, true)) {
    parts.push(text(MARGIN, y, line, { size: 16, weight: 'bold' }));
    y += 21;
  }
  for (const line of subtitle ? wrap(subtitle, width - 2 * MARGIN, 12) : []) {
    parts.push(text(MARGIN, y, line, { size: 12, fill: MUTED }));
    y += 16;
  }
  if (legend.length) {
    y += 4;
    let x = MARGIN;
    for (const { name, color } of legend) {
      parts.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" rx="2" fill="${color}"/>`);
      parts.push(text(x + 17, y, name, { size: 12 }));
      x += 17 + textWidth(name, 12) + 18;
    }
    y += 8;
  }
  return { parts, y: y + 10 };
}

/** The footer lines (machine, date, settings) from `top`: the SVG parts and the total height. */
function footer(lines, width, top) {
  const parts = [];
  let y = top + 12;
  for (const line of lines.flatMap((l) => wrap(l, width - 2 * MARGIN, 10))) {
    parts.push(text(MARGIN, y, line, { size: 10, fill: MUTED }));
    y += 13;
  }
  return { parts, height: y - 13 + MARGIN };
}

function svg(width, height, parts, title) {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${Math.ceil(height)}" viewBox="0 0 ${width} ${Math.ceil(height)}" font-family="${FONT}" role="img" aria-label="${esc(title)}">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * A horizontal bar chart, one row per bar, in the order given.
 *
 * spec = { title, subtitle?, legend?: [{ name, color }], footer: [lines],
 *          axis: { format(value) -> tick label, title, log? },
 *          rows: [{ label, value, text, ours?, bold?, failed? }] }
 * With axis.log the bars are on a log scale, starting at the decade below
 * the smallest value.
 * A row's `text` is drawn right of its bar; a failed row (or a value that
 * is not finite) gets no bar and its text in red.
 */
export function barChart(spec) {
  const LABEL = 12;
  const VALUE = 11;
  const BAR = 20;
  const GAP = 9;
  const labelW = Math.max(...spec.rows.map((r) => textWidth(r.label, LABEL, r.bold))) + 12;
  const valueW = Math.max(...spec.rows.map((r) => textWidth(r.text, VALUE, r.bold))) + 10;
  const minPlot = 260;
  const width = Math.max(spec.width ?? 800, MARGIN * 2 + labelW + minPlot + valueW);
  const head = header(spec, width);
  const x0 = MARGIN + labelW;
  const plotW = width - MARGIN - x0 - valueW;
  const values = spec.rows.filter((r) => Number.isFinite(r.value) && !r.failed).map((r) => r.value);
  const { ticks, at } = spec.axis.log ? logAxis(values, plotW) : linearAxis(values, plotW);
  const top = head.y;
  const plotH = spec.rows.length * (BAR + GAP) - GAP;
  const parts = [...head.parts];

  for (const t of ticks) {
    const x = x0 + at(t);
    parts.push(`<line x1="${px(x)}" y1="${top - 4}" x2="${px(x)}" y2="${top + plotH + 4}" stroke="${GRID}" stroke-width="1"/>`);
    parts.push(text(x, top + plotH + 18, spec.axis.format(t), { size: 10, fill: MUTED, anchor: 'middle' }));
  }
  if (spec.axis.title) parts.push(text(x0 + plotW / 2, top + plotH + 34, spec.axis.title, { size: 11, fill: MUTED, anchor: 'middle' }));

  spec.rows.forEach((r, i) => {
    const y = top + i * (BAR + GAP);
    const mid = y + BAR / 2 + 4;
    parts.push(text(x0 - 10, mid, r.label, { size: LABEL, anchor: 'end', weight: r.bold ? 'bold' : undefined }));
    const ok = !r.failed && Number.isFinite(r.value);
    // A bar of a few records/s next to millions still gets 1 px, so it is seen to exist.
    const w = ok ? Math.max(1, at(r.value)) : 0;
    if (ok) parts.push(`<rect x="${x0}" y="${y}" width="${px(w)}" height="${BAR}" rx="2" fill="${r.ours ? OURS : PEER}"/>`);
    parts.push(text(x0 + w + 6, mid, r.text, { size: VALUE, fill: ok ? INK : FAIL, weight: r.bold ? 'bold' : undefined }));
  });
  parts.push(`<line x1="${x0}" y1="${top - 4}" x2="${x0}" y2="${top + plotH + 4}" stroke="${MUTED}" stroke-width="1"/>`);

  const foot = footer(spec.footer ?? [], width, top + plotH + (spec.axis.title ? 40 : 24));
  return svg(width, foot.height, [...parts, ...foot.parts], spec.title);
}

/**
 * A grouped column chart: groups along the x axis (T1: thread counts), one
 * column per series in each group, each column with up to two lines of
 * text above it.
 *
 * spec = { title, subtitle?, footer: [lines], series: [{ name, color }],
 *          axis: { format(value) -> tick label, title }, xTitle,
 *          reference?: { value, label } (a dashed line across),
 *          groups: [{ label, columns: [{ value, top, bottom?, failed? }] }] }
 */
export function columnChart(spec) {
  const TOP_SIZE = 11;
  const BOTTOM_SIZE = 10;
  const columns = spec.groups.flatMap((g) => g.columns);
  const colW = Math.max(46, ...columns.map((c) => Math.max(textWidth(c.top, TOP_SIZE, true), c.bottom ? textWidth(c.bottom, BOTTOM_SIZE) : 0) + 6));
  const nSeries = spec.series.length;
  const groupW = nSeries * colW + (nSeries - 1) * 6 + 36;
  const axisW = 56;
  // The reference line's label sits right of the plot, where no column label can be.
  const refW = spec.reference ? textWidth(spec.reference.label, 10) + 8 : 0;
  const width = Math.max(spec.width ?? 800, MARGIN * 2 + axisW + spec.groups.length * groupW + refW);
  const head = header({ ...spec, legend: spec.series }, width);
  const x0 = MARGIN + axisW;
  const plotW = width - MARGIN - x0 - refW;
  const plotH = 260;
  const labelRoom = 34; // two lines of text above the tallest column
  const top = head.y + labelRoom;
  const max = Math.max(spec.reference?.value ?? 0, ...columns.map((c) => (Number.isFinite(c.value) && !c.failed ? c.value : 0)));
  const ticks = niceTicks(max, 5);
  const scale = plotH / ticks[ticks.length - 1];
  const base = top + plotH;
  const parts = [...head.parts];

  for (const t of ticks) {
    const y = base - t * scale;
    parts.push(`<line x1="${x0}" y1="${px(y)}" x2="${x0 + plotW}" y2="${px(y)}" stroke="${GRID}" stroke-width="1"/>`);
    parts.push(text(x0 - 8, y + 4, spec.axis.format(t), { size: 10, fill: MUTED, anchor: 'end' }));
  }
  if (spec.axis.title) {
    const cx = MARGIN + 4;
    const cy = top + plotH / 2;
    parts.push(`<text x="${cx}" y="${px(cy)}" font-size="11" fill="${MUTED}" text-anchor="middle" transform="rotate(-90 ${cx} ${px(cy)})">${esc(spec.axis.title)}</text>`);
  }

  if (spec.reference) {
    const y = base - spec.reference.value * scale;
    parts.push(`<line x1="${x0}" y1="${px(y)}" x2="${x0 + plotW}" y2="${px(y)}" stroke="${MUTED}" stroke-width="1" stroke-dasharray="5 4"/>`);
    parts.push(text(x0 + plotW + 6, y + 4, spec.reference.label, { size: 10, fill: MUTED }));
  }
  const slot = plotW / spec.groups.length;
  spec.groups.forEach((g, gi) => {
    const inner = nSeries * colW + (nSeries - 1) * 6;
    const gx = x0 + gi * slot + (slot - inner) / 2;
    g.columns.forEach((c, si) => {
      const x = gx + si * (colW + 6);
      const ok = !c.failed && Number.isFinite(c.value);
      const h = ok ? Math.max(1, c.value * scale) : 0;
      if (ok) parts.push(`<rect x="${px(x)}" y="${px(base - h)}" width="${colW}" height="${px(h)}" rx="2" fill="${spec.series[si].color}"/>`);
      const cx = x + colW / 2;
      const fill = ok ? INK : FAIL;
      parts.push(text(cx, base - h - (c.bottom ? 19 : 6), c.top, { size: TOP_SIZE, weight: 'bold', anchor: 'middle', fill, halo: true }));
      if (c.bottom) parts.push(text(cx, base - h - 6, c.bottom, { size: BOTTOM_SIZE, anchor: 'middle', fill: MUTED, halo: true }));
    });
    parts.push(text(x0 + gi * slot + slot / 2, base + 18, g.label, { size: 12, anchor: 'middle' }));
  });
  parts.push(`<line x1="${x0}" y1="${base}" x2="${x0 + plotW}" y2="${base}" stroke="${MUTED}" stroke-width="1"/>`);
  if (spec.xTitle) parts.push(text(x0 + plotW / 2, base + 36, spec.xTitle, { size: 11, fill: MUTED, anchor: 'middle' }));

  const foot = footer(spec.footer ?? [], width, base + (spec.xTitle ? 42 : 26));
  return svg(width, foot.height, [...parts, ...foot.parts], spec.title);
}

/** The colours, for callers that build legends: ours, ours (second series), peers. */
export const COLORS = { ours: OURS, oursLight: OURS_LIGHT, peer: PEER };
