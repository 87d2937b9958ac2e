/**
 * Hostile files (issue 5 item 3): random bytes, valid logs cut at every
 * offset, flipped length bytes, backups missing from the middle of the
 * numbering, look-alike names. For each, a small independent model of the
 * format predicts what must happen, and the library must agree exactly:
 *
 * - readLog yields only whole records that are in the files, in order, and
 *   either ends cleanly or throws CorruptLogError with the path and offset of
 *   the bad record; it never allocates more than a file holds;
 * - verify reports the same problems (and numbering gaps) at the same places;
 * - a BinaryLogger opens on the log (cutting a torn tail of the current file
 *   with a BINLOG_TORN_TAIL warning, touching nothing else) and appends
 *   correctly after it; a current file that stops at a length beyond
 *   MAX_PAYLOAD_BYTES is refused with ERR_LOG_CORRUPT, nothing changed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import fc from 'fast-check';
import { BinaryLogger, CorruptLogError, HEADER_BYTES, MAX_PAYLOAD_BYTES, readLog } from '../src/index.js';
import { verify } from '../src/verify.js';
import { frame, tempDir } from './helpers.js';

/** Large enough that no fuzzed log rolls over when a logger opens it. */
const NO_ROLLOVER = 1 << 20;

// ---------------------------------------------------------------- the model

/** What the format says a file holds: its whole records, and where the first partial one starts. */
function parse(bytes: Buffer): { records: Buffer[]; whole: number; bad?: number } {
  const records: Buffer[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < HEADER_BYTES) return { records, whole: pos, bad: pos };
    const length = bytes.readUInt32BE(pos);
    if (pos + HEADER_BYTES + length > bytes.length) return { records, whole: pos, bad: pos };
    records.push(bytes.subarray(pos + HEADER_BYTES, pos + HEADER_BYTES + length));
    pos += HEADER_BYTES + length;
  }
  return { records, whole: pos };
}

interface Scenario {
  /** Backups by seq. */
  backups: Array<[number, Buffer]>;
  /** The current file, if there is one. */
  current?: Buffer;
  /** Files beside the log that are not part of it. */
  others?: Array<[string, Buffer]>;
}

interface Expected {
  records: Buffer[];
  error?: { path: string; offset: number };
  problems: Array<[string, string, number]>;
  tornAt?: number;
}

function expect(dir: string, s: Scenario): Expected {
  const path = join(dir, 'events.bin');
  const out: Expected = { records: [], problems: [] };
  const backups = [...s.backups].sort((a, b) => a[0] - b[0]);
  let prev = -1;
  for (const [seq, bytes] of backups) {
    const file = join(dir, `events.${seq}.bin`);
    if (prev >= 0 && seq > prev + 1) out.problems.push(['numbering-gap', join(dir, `events.${prev + 1}.bin`), 0]);
    prev = seq;
    const { records, bad } = parse(bytes);
    if (!out.error) out.records.push(...records);
    if (bad !== undefined) {
      out.problems.push(['length-past-end', file, bad]);
      out.error ??= { path: file, offset: bad };
    }
  }
  if (s.current) {
    const { records, bad } = parse(s.current);
    if (!out.error) out.records.push(...records);
    if (bad !== undefined) {
      out.problems.push(['torn-tail', path, bad]);
      out.tornAt = bad;
    }
  }
  return out;
}

// ------------------------------------------------------------- the checker

/** Iterate readLog to the end or its first error. */
function drain(path: string): { records: Buffer[]; error: unknown } {
  const records: Buffer[] = [];
  try {
    for (const r of readLog(path, { encoding: 'buffer' })) records.push(Buffer.from(r));
  } catch (error) {
    return { records, error };
  }
  return { records, error: undefined };
}

function assertOutcome(got: { records: Buffer[]; error: unknown }, records: Buffer[], error: Expected['error'], label: string): void {
  assert.deepEqual(got.records, records, `${label}: records`);
  if (!error) {
    assert.equal(got.error, undefined, `${label}: no error`);
    return;
  }
  assert.ok(got.error instanceof CorruptLogError, `${label}: expected CorruptLogError, got ${String(got.error)}`);
  assert.equal(got.error.code, 'ERR_LOG_CORRUPT');
  assert.equal(got.error.path, error.path, `${label}: path`);
  assert.equal(got.error.offset, error.offset, `${label}: offset`);
}

/** Runs scenarios in fresh directories under one temp dir, with allocations and warnings watched. */
class Checker {
  readonly root: string;
  #n = 0;
  #allocs: number[] | undefined;
  #warnings: string[] = [];

  constructor(t: TestContext) {
    this.root = tempDir(t);
    const realAlloc = Buffer.allocUnsafe;
    t.mock.method(Buffer, 'allocUnsafe', (size: number) => {
      this.#allocs?.push(size);
      return realAlloc(size);
    });
    t.mock.method(process, 'emitWarning', (warning: string | Error, options?: { code?: string }) => {
      this.#warnings.push(options?.code ?? String(warning));
    });
  }

  check(s: Scenario, label: string, marker = 'appended'): void {
    const dir = mkdtempSync(join(this.root, `${this.#n++}-`));
    const path = join(dir, 'events.bin');
    for (const [seq, bytes] of s.backups) writeFileSync(join(dir, `events.${seq}.bin`), bytes);
    if (s.current) writeFileSync(path, s.current);
    for (const [name, bytes] of s.others ?? []) writeFileSync(join(dir, name), bytes);
    const want = expect(dir, s);
    const largest = Math.max(HEADER_BYTES, ...readdirSync(dir).map((n) => statSync(join(dir, n)).size));

    // Readers: exactly what the model says, never allocating more than a file holds.
    this.#allocs = [];
    assertOutcome(drain(path), want.records, want.error, label);
    const report = verify(path, { utf8: true });
    const allocs = this.#allocs;
    this.#allocs = undefined;
    assert.ok(allocs.every((n) => n <= largest), `${label}: allocated ${Math.max(...allocs)} for files of at most ${largest} bytes`);
    assert.deepEqual(
      report.problems.filter((p) => p.kind !== 'invalid-utf8').map((p) => [p.kind, p.path, p.offset]),
      want.problems,
      `${label}: verify`,
    );
    assert.equal(report.ok, report.problems.length === 0);
    if (want.error) {
      const first = report.problems.find((p) => p.kind === 'length-past-end')!;
      assert.deepEqual([first.path, first.offset], [want.error.path, want.error.offset], `${label}: verify and readLog agree`);
    }

    // A current file that stops at a length no writer produces is not a
    // log (issue 10): the logger refuses to open it and touches nothing.
    const stop = s.current ? parse(s.current).bad : undefined;
    if (s.current && stop !== undefined && s.current.length - stop >= HEADER_BYTES && s.current.readUInt32BE(stop) > MAX_PAYLOAD_BYTES) {
      const everything = new Map(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n))]));
      this.#warnings = [];
      assert.throws(() => new BinaryLogger(path, NO_ROLLOVER), { name: 'CorruptLogError', code: 'ERR_LOG_CORRUPT', path, offset: stop }, label);
      assert.deepEqual(this.#warnings, [], `${label}: warnings`);
      assert.deepEqual(new Map(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n))])), everything, `${label}: nothing on disk changed`);
      rmSync(dir, { recursive: true, force: true });
      return;
    }

    // A logger opens the log, cuts only a torn tail of the current file, and appends after it.
    const untouched = new Map(readdirSync(dir).filter((n) => n !== 'events.bin').map((n) => [n, readFileSync(join(dir, n))]));
    this.#warnings = [];
    {
      using logger = new BinaryLogger(path, NO_ROLLOVER);
      logger.write(marker);
    }
    assert.deepEqual(this.#warnings, want.tornAt === undefined ? [] : ['BINLOG_TORN_TAIL'], `${label}: warnings`);
    const kept = s.current ? s.current.subarray(0, parse(s.current).whole) : Buffer.alloc(0);
    assert.deepEqual(readFileSync(path), Buffer.concat([kept, frame(marker)]), `${label}: the current file after appending`);
    for (const [name, bytes] of untouched) assert.deepEqual(readFileSync(join(dir, name)), bytes, `${label}: ${name} untouched`);
    assertOutcome(drain(path), want.error ? want.records : [...want.records, Buffer.from(marker)], want.error, `${label}, after appending`);
    assert.deepEqual(
      verify(path).problems.map((p) => [p.kind, p.path, p.offset]),
      want.problems.filter(([kind]) => kind !== 'torn-tail'),
      `${label}: verify after appending`,
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------- generators

/** Bytes that are partly records, partly junk, and lengths that nearly fit. */
const segment = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 12 }).map((p) => frame(p)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => Buffer.from(b)) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.integer({ min: 0, max: 40 }), fc.uint8Array({ maxLength: 12 })).map(([length, body]) => {
      const head = Buffer.alloc(HEADER_BYTES);
      head.writeUInt32BE(length);
      return Buffer.concat([head, body]);
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
      Buffer.from([0x80, 0, 0, 0]),
      Buffer.from([0, 0, 0]),
      Buffer.from([0, 0, 0, 0]),
    ),
  },
);
const hostileBytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.array(segment, { maxLength: 8 }).map((parts) => Buffer.concat(parts)),
);
const payloads = fc.array(
  fc.oneof(fc.string({ maxLength: 10 }), fc.uint8Array({ maxLength: 10 })),
  { minLength: 1, maxLength: 8 },
);

/** The files a logger writes for `records` with `maxFileSize`, read back from disk. */
function writeLog(root: string, records: Array<string | Uint8Array>, maxFileSize: number): Scenario {
  const dir = mkdtempSync(join(root, 'src-'));
  const path = join(dir, 'events.bin');
  {
    using logger = new BinaryLogger(path, maxFileSize);
    for (const r of records) logger.write(r);
  }
  const backups: Array<[number, Buffer]> = [];
  for (const name of readdirSync(dir)) {
    const m = /^events\.(\d+)\.bin$/.exec(name);
    if (m) backups.push([Number(m[1]), readFileSync(join(dir, name))]);
  }
  const current = readFileSync(path);
  rmSync(dir, { recursive: true, force: true });
  return { backups: backups.sort((a, b) => a[0] - b[0]), current };
}

const RUNS = { numRuns: 150 };

// ------------------------------------------------------------------- tests

test('random bytes as the current file: whole records, then a torn tail the logger cuts with a warning', { timeout: 20_000 }, (t) => {
  const checker = new Checker(t);
  fc.assert(
    fc.property(hostileBytes, fc.uint8Array({ maxLength: 10 }), (bytes, old) => {
      checker.check({ backups: [[0, frame(old)]], current: bytes }, `current ${bytes.toString('hex')}`);
    }),
    RUNS,
  );
});

test('random bytes as a backup: its whole records, then CorruptLogError at the bad record, and the logger still appends', { timeout: 20_000 }, (t) => {
  const checker = new Checker(t);
  fc.assert(
    fc.property(hostileBytes, fc.boolean(), (bytes, withCurrent) => {
      checker.check(
        { backups: [[0, frame('first')], [1, bytes], [2, frame('last')]], current: withCurrent ? frame('cur') : undefined },
        `backup ${bytes.toString('hex')}`,
      );
    }),
    RUNS,
  );
});

test('a valid log cut at every offset of every file', { timeout: 20_000 }, (t) => {
  const checker = new Checker(t);
  fc.assert(
    fc.property(payloads, fc.integer({ min: 1, max: 30 }), (records, maxFileSize) => {
      const log = writeLog(checker.root, records, maxFileSize);
      const files: Array<{ which: number; bytes: Buffer }> = [
        ...log.backups.map(([, bytes], i) => ({ which: i, bytes })),
        { which: -1, bytes: log.current! },
      ];
      for (const { which, bytes } of files) {
        for (let len = 0; len < bytes.length; len++) {
          const cut = bytes.subarray(0, len);
          const s: Scenario =
            which < 0
              ? { backups: log.backups, current: cut }
              : { backups: log.backups.map(([seq, b], i) => [seq, i === which ? cut : b]), current: log.current };
          checker.check(s, `file ${which} cut to ${len}`);
        }
      }
    }),
    { numRuns: 12 },
  );
});

test('a length byte flipped anywhere in a valid log', { timeout: 20_000 }, (t) => {
  const checker = new Checker(t);
  fc.assert(
    fc.property(
      payloads,
      fc.integer({ min: 1, max: 30 }),
      fc.nat(),
      fc.nat(),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 1, max: 255 }),
      (records, maxFileSize, fileIndex, recordIndex, byte, xor) => {
        const log = writeLog(checker.root, records, maxFileSize);
        const files = [...log.backups.map(([, b]) => b), log.current!];
        const which = fileIndex % files.length;
        const bytes = Buffer.from(files[which]!);
        const starts: number[] = [];
        for (let pos = 0; pos < bytes.length; pos += HEADER_BYTES + bytes.readUInt32BE(pos)) starts.push(pos);
        fc.pre(starts.length > 0);
        const at = starts[recordIndex % starts.length]! + byte;
        bytes[at]! ^= xor;
        const s: Scenario =
          which === files.length - 1
            ? { backups: log.backups, current: bytes }
            : { backups: log.backups.map(([seq, b], i) => [seq, i === which ? bytes : b]), current: log.current };
        checker.check(s, `file ${which}, byte ${at} ^ ${xor}`);
      },
    ),
    RUNS,
  );
});

test('backups missing from the middle of the numbering: read through, reported as gaps, and numbering goes on above the highest', { timeout: 20_000 }, (t) => {
  const checker = new Checker(t);
  fc.assert(
    fc.property(fc.integer({ min: 3, max: 12 }), fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), (count, keep) => {
      // The lowest and highest stay; any of the others may be gone.
      const seqs = Array.from({ length: count }, (_, i) => i).filter((i) => i === 0 || i === count - 1 || keep[i]);
      const backups: Array<[number, Buffer]> = seqs.map((seq) => [seq, frame(`r${seq}`)]);
      checker.check({ backups, current: frame('cur') }, `backups ${seqs.join(',')}`);
    }),
    { numRuns: 60 },
  );
  // And a rollover after a gap takes one above the highest.
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  for (const seq of [0, 3, 4]) writeFileSync(join(dir, `events.${seq}.bin`), frame(`r${seq}`));
  {
    using logger = new BinaryLogger(path, 1);
    logger.write('x');
  }
  assert.deepEqual(readdirSync(dir).sort(), ['events.0.bin', 'events.3.bin', 'events.4.bin', 'events.5.bin', 'events.bin']);
  assert.deepEqual([...readLog(path)], ['r0', 'r3', 'r4', 'x']);
});

test('look-alike names beside a log are never read, checked, renamed or changed', { timeout: 20_000 }, (t) => {
  const checker = new Checker(t);
  const lookAlike = fc.oneof(
    fc.constantFrom('events.x.bin', 'events.01.bin', 'events.00.bin', 'events.bin.bak', 'other.0.bin', 'events.0.bin.tmp', 'events..bin', 'events.-1.bin', 'events.1e3.bin', 'Events.0.bin', 'events.0.BIN', 'events.0', 'events.99999999999999999.bin', 'events.0.bin.corrupt-4'),
    fc.stringMatching(/^events\.0[0-9]{1,3}\.bin$/),
    fc.stringMatching(/^events\.[0-9]{0,2}[a-z ._-][0-9]{0,2}\.bin$/),
  );
  fc.assert(
    fc.property(fc.uniqueArray(fc.tuple(lookAlike, hostileBytes), { selector: ([name]) => name, maxLength: 5 }), (others) => {
      fc.pre(others.every(([name]) => name !== 'events.bin' && !/^events\.(0|[1-9][0-9]{0,15})\.bin$/.test(name)));
      checker.check({ backups: [[0, frame('a')], [1, frame('b')]], current: frame('c'), others }, `look-alikes ${others.map(([n]) => n).join(', ')}`);
    }),
    { numRuns: 100 },
  );
});

test('a cut log stays cut the same way after the logger rolls over past it', (t) => {
  // A torn tail cut at open, then enough appends to roll over: the sealed
  // backup holds only whole records.
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(path, Buffer.concat([frame('one', 'two'), Buffer.from([0, 0, 0, 50, 1, 2])]));
  t.mock.method(process, 'emitWarning', () => {});
  {
    using logger = new BinaryLogger(path, 20);
    logger.write('three');
  }
  assert.deepEqual(readFileSync(join(dir, 'events.0.bin')), frame('one', 'two', 'three'));
  truncateSync(path, 0);
  assert.deepEqual(verify(path).problems, []);
});
