/**
 * verify() (issue 5 item 4), repair() and lastRecords(): every problem with
 * its exact kind, file and byte offset; repairs that never lose a byte.
 */
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { BinaryLogger, CorruptLogError, readLog } from '../src/index.js';
import { READ_CHUNK_BYTES } from '../src/reader.js';
import { repair } from '../src/repair.js';
import { logStats } from '../src/stats.js';
import { lastRecords } from '../src/tail.js';
import { verify, type VerifyProblem } from '../src/verify.js';
import { drain, frame, setByte, snapshot, tempDir, truncateBy } from './helpers.js';

/** The kind, path and offset of each problem (messages may improve). */
function where(problems: VerifyProblem[]): Array<[string, string, number]> {
  return problems.map((p) => [p.kind, p.path, p.offset]);
}

/** Build a log by hand: backups by seq, then the current file. */
function makeLog(t: TestContext, backups: Record<number, Buffer>, current?: Buffer): { dir: string; path: string; b: (seq: number) => string } {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const b = (seq: number): string => join(dir, `events.${seq}.bin`);
  for (const [seq, bytes] of Object.entries(backups)) writeFileSync(b(Number(seq)), bytes);
  if (current) writeFileSync(path, current);
  return { dir, path, b };
}

test('a sound log verifies ok, with every file, its size, records and whole bytes', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  {
    using logger = new BinaryLogger(path, 20);
    for (const p of ['alpha', 'beta', 'gamma', 'delta', '', 'epsilon']) logger.write(p);
  }
  // 9+8 -> 17; +9 = 26 >= 20 rolls: events.0.bin = alpha beta gamma (26)
  // 9 + 4 + 11 = 24 >= 20 rolls: events.1.bin = delta '' epsilon (24)
  const before = snapshot(dir);
  const report = verify(path);
  assert.deepEqual(report, {
    ok: true,
    files: [
      { path: join(dir, 'events.0.bin'), seq: 0, size: 26, records: 3, wholeBytes: 26 },
      { path: join(dir, 'events.1.bin'), seq: 1, size: 24, records: 3, wholeBytes: 24 },
      { path, seq: -1, size: 0, records: 0, wholeBytes: 0 },
    ],
    problems: [],
    omittedProblems: 0,
  });
  assert.deepEqual(snapshot(dir), before, 'verify changes nothing');
});

test('a log that does not exist throws ENOENT naming the path', (t) => {
  const path = join(tempDir(t), 'nothing', 'events.bin');
  assert.throws(() => verify(path), { code: 'ENOENT', syscall: 'open', path });
});

test('a torn tail of the current file is reported where the partial record starts, at every cut', (t) => {
  const records = ['alpha', '', 'beta', 'é🚀'];
  const full = frame(...records);
  const starts = [0, 9, 13, 21, full.length];
  const { path } = makeLog(t, { 0: frame('old') });
  for (let len = 0; len <= full.length; len++) {
    writeFileSync(path, full.subarray(0, len));
    const report = verify(path);
    const whole = starts.filter((s) => s > 0 && s <= len).length;
    const current = report.files[1]!;
    assert.equal(current.records, whole, `cut at ${len}`);
    assert.equal(current.wholeBytes, starts[whole], `cut at ${len}`);
    if (starts.includes(len)) {
      assert.deepEqual(report.problems, [], `cut at ${len} is a record boundary`);
      assert.equal(report.ok, true);
    } else {
      assert.deepEqual(where(report.problems), [['torn-tail', path, starts[whole]!]], `cut at ${len}`);
      assert.equal(report.ok, false);
    }
    assert.deepEqual(drain(readLog(path)), { records: ['old', ...records.slice(0, whole)], error: undefined });
  }
});

test('a record running past the end of a backup is length-past-end at its start, and the rest of the log is still checked', (t) => {
  const { path, b } = makeLog(t, { 0: frame('a', 'bb', 'ccc'), 1: frame('next') }, frame('cur', 'rent'));
  setByte(b(0), 5 + 3, 0x7f); // the length of 'bb' (at offset 5) becomes 127
  truncateBy(path, 2); // and a torn tail in the current file
  const report = verify(path);
  assert.deepEqual(where(report.problems), [
    ['length-past-end', b(0), 5],
    ['torn-tail', path, 7],
  ]);
  assert.match(report.problems[0]!.message, /a record of 127 bytes runs past the end of the file \(18 bytes\)/);
  assert.deepEqual(
    report.files.map((f) => [f.seq, f.size, f.records, f.wholeBytes]),
    [
      [0, 18, 1, 5],
      [1, 8, 1, 8],
      [-1, 13, 1, 7],
    ],
  );
  // readLog throws the same problem, at the same path and offset.
  const { records, error } = drain(readLog(path));
  assert.deepEqual(records, ['a']);
  assert.ok(error instanceof CorruptLogError);
  assert.equal(error.path, b(0));
  assert.equal(error.offset, 5);
});

test('a backup ending in part of a length is length-past-end where that length starts', (t) => {
  for (const extra of [1, 2, 3]) {
    const { path, b } = makeLog(t, { 4: Buffer.concat([frame('x'), Buffer.alloc(extra)]) }, frame());
    assert.deepEqual(where(verify(path).problems), [['length-past-end', b(4), 5]], `${extra} stray bytes`);
    assert.match(verify(path).problems[0]!.message, new RegExp(`${extra} bytes at the end of the file are not a whole record`));
  }
});

test('a length of 0xffffffff in a tiny backup is reported without allocating more than the file holds', (t) => {
  const { path, b } = makeLog(t, { 0: Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2]) });
  const sizes: number[] = [];
  const real = Buffer.allocUnsafe;
  t.mock.method(Buffer, 'allocUnsafe', (size: number) => {
    sizes.push(size);
    return real(size);
  });
  const report = verify(path, { utf8: true });
  t.mock.restoreAll();
  assert.deepEqual(where(report.problems), [['length-past-end', b(0), 0]]);
  assert.ok(Math.max(...sizes) <= 6, `allocated ${sizes.join(', ')}`);
});

test('numbering gaps are reported once per run of missing backups, at the first missing name', (t) => {
  const cases: Array<{ seqs: number[]; gaps: Array<[number, string]> }> = [
    { seqs: [0, 1, 4], gaps: [[2, 'backups 2 to 3 are missing']] },
    { seqs: [0, 2], gaps: [[1, 'backup 1 is missing']] },
    { seqs: [0, 2, 3, 7, 8], gaps: [[1, 'backup 1 is missing'], [4, 'backups 4 to 6 are missing']] },
    { seqs: [3, 4, 5], gaps: [] }, // the oldest deleted by retention: not a gap
    { seqs: [9, 10], gaps: [] }, // 10 after 9
    { seqs: [], gaps: [] },
  ];
  for (const { seqs, gaps } of cases) {
    const { path, b } = makeLog(t, Object.fromEntries(seqs.map((s) => [s, frame(`r${s}`)])), frame('cur'));
    const report = verify(path);
    assert.deepEqual(
      where(report.problems),
      gaps.map(([seq]) => ['numbering-gap', b(seq), 0]),
      `backups ${seqs.join(',')}`,
    );
    gaps.forEach(([, text], i) => assert.ok(report.problems[i]!.message.startsWith(text), report.problems[i]!.message));
    assert.deepEqual(
      report.files.map((f) => f.seq),
      [...seqs, -1],
    );
    // readLog reads through the gaps, per the original's SPEC.
    assert.deepEqual(drain(readLog(path)), { records: [...seqs.map((s) => `r${s}`), 'cur'], error: undefined });
  }
});

test('invalid UTF-8 is reported at each record only when utf8 is asked for', (t) => {
  const payloads: Array<string | Uint8Array> = [
    'ok', //                                 0
    Buffer.from([0xff]), //                 6
    'é', //                                 11
    Buffer.from([0x61, 0xc3]), //           17: a sequence cut short
    Buffer.from([0xed, 0xa0, 0x80]), //     23: an encoded surrogate
    Buffer.from([0xc0, 0xaf]), //           30: an overlong encoding
    Buffer.from([0xef, 0xbb, 0xbf, 0x41]), // 36: a BOM is well-formed
    '', //                                  44
  ];
  const { path } = makeLog(t, {}, frame(...payloads));
  assert.deepEqual(verify(path).problems, []);
  const report = verify(path, { utf8: true });
  assert.deepEqual(where(report.problems), [
    ['invalid-utf8', path, 6],
    ['invalid-utf8', path, 17],
    ['invalid-utf8', path, 23],
    ['invalid-utf8', path, 30],
  ]);
  assert.equal(report.files[0]!.records, 8, 'invalid UTF-8 is still a whole record');
});

test('utf8 checks a payload larger than the read window across the window boundary', (t) => {
  // 'é' is 2 bytes: with an odd prefix one straddles every window boundary.
  const big = Buffer.concat([Buffer.from('x'), Buffer.from('é'.repeat(READ_CHUNK_BYTES))]);
  const bad = Buffer.from(big);
  bad[bad.length - 1] = 0x41; // the last 'é' loses its second byte
  const { path } = makeLog(t, {}, frame('a', big, 'b', bad, 'c'));
  const report = verify(path, { utf8: true });
  assert.deepEqual(where(report.problems), [['invalid-utf8', path, 5 + 4 + big.length + 5]]);
  assert.equal(report.files[0]!.records, 5);
});

test('maxProblems lists the first problems and counts the rest', (t) => {
  const { path } = makeLog(t, {}, frame(...Array.from({ length: 5 }, () => Buffer.from([0xfe]))));
  const report = verify(path, { utf8: true, maxProblems: 2 });
  assert.deepEqual(where(report.problems), [
    ['invalid-utf8', path, 0],
    ['invalid-utf8', path, 5],
  ]);
  assert.equal(report.omittedProblems, 3);
  assert.equal(report.ok, false);
});

test('a rollover temporary file left beside the log is stray-temp', (t) => {
  const { dir, path } = makeLog(t, { 0: frame('a') }, frame('b'));
  writeFileSync(join(dir, '.events.bin.next'), '');
  writeFileSync(join(dir, '.events.bin.lock'), '999999 0\n'); // a lock file is not a problem
  assert.deepEqual(where(verify(path).problems), [['stray-temp', join(dir, '.events.bin.next'), 0]]);
});

test('a current file that is still the last backup is interrupted-rollover, and its records are counted once', (t) => {
  const { path, b } = makeLog(t, { 0: frame('a') }, frame('b', 'c'));
  linkSync(path, b(1)); // sealed by link(2); the rename of the fresh file never happened
  const report = verify(path);
  assert.deepEqual(where(report.problems), [['interrupted-rollover', path, 0]]);
  assert.deepEqual(
    report.files.map((f) => [f.seq, f.records]),
    [
      [0, 1],
      [1, 2],
    ],
  );
});

test('a file of the log that cannot be read is unreadable, and the others are still checked', (t) => {
  const { path, b } = makeLog(t, { 0: frame('a'), 2: frame('c') }, frame('d'));
  mkdirSync(b(1));
  const report = verify(path);
  assert.deepEqual(where(report.problems), [['unreadable', b(1), 0]]);
  assert.deepEqual(
    report.files.map((f) => [f.seq, f.records]),
    [
      [0, 1],
      [1, 0],
      [2, 1],
      [-1, 1],
    ],
  );
});

test('look-alike names are not part of the log', (t) => {
  const junk = Buffer.from([0xff, 0xff, 0xff, 0xff, 0]);
  const { dir, path } = makeLog(t, { 0: frame('a') }, frame('b'));
  for (const name of ['events.x.bin', 'events.01.bin', 'events.bin.bak', 'other.0.bin', 'events.0.bin.tmp', 'events.-1.bin', 'events.1.bin.corrupt-0']) {
    writeFileSync(join(dir, name), junk);
  }
  const report = verify(path, { utf8: true });
  assert.equal(report.ok, true);
  assert.deepEqual(
    report.files.map((f) => f.path),
    [join(dir, 'events.0.bin'), path],
  );
});

test('a compressed backup is checked after decompressing it; one that does not decompress is unreadable', (t) => {
  const { dir, path } = makeLog(t, {}, frame('c'));
  writeFileSync(join(dir, 'events.0.bin.gz'), gzipSync(frame('a', 'b')));
  writeFileSync(join(dir, 'events.1.bin.gz'), Buffer.from('not gzip'));
  const report = verify(path);
  assert.deepEqual(
    report.files.map((f) => [f.seq, f.records, f.wholeBytes, f.gzip]),
    [
      [0, 2, 10, true],
      [1, 0, 0, true],
      [-1, 1, 5, undefined],
    ],
  );
  assert.deepEqual(where(report.problems), [['unreadable', join(dir, 'events.1.bin.gz'), 0]]);
});

test('onProgress sees the bytes done grow to the total', (t) => {
  const big = Buffer.alloc(READ_CHUNK_BYTES + 10, 0x61);
  const { path } = makeLog(t, { 0: frame(big, big) }, frame(big));
  const calls: Array<[number, number]> = [];
  verify(path, { onProgress: (done, total) => calls.push([done, total]) });
  const total = 3 * (4 + big.length);
  assert.ok(calls.length >= 3, `${calls.length} calls`);
  assert.deepEqual(calls[calls.length - 1], [total, total]);
  for (let i = 1; i < calls.length; i++) assert.ok(calls[i]![0] >= calls[i - 1]![0]);
  assert.ok(calls.every(([, tt]) => tt === total));
});

test('bad arguments throw the documented codes', () => {
  assert.throws(() => verify(42 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
  assert.throws(() => verify('x', { utf8: 'yes' as unknown as boolean }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => verify('x', { maxProblems: -1 }), { code: 'ERR_OUT_OF_RANGE', name: 'RangeError' });
  assert.throws(() => verify('x', { onProgress: 1 as unknown as () => void }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => repair('x', { dryRun: 1 as unknown as boolean }), { code: 'ERR_INVALID_ARG_TYPE' });
});

// ------------------------------------------------------------------ logStats

test('logStats sums files, records and payload sizes', (t) => {
  const { dir, path } = makeLog(t, { 3: frame('a', 'bbb'), 4: frame('') }, frame('cc'));
  const stats = logStats(path);
  assert.deepEqual(stats, {
    files: [
      { name: 'events.3.bin', path: join(dir, 'events.3.bin'), seq: 3, size: 12, records: 2 },
      { name: 'events.4.bin', path: join(dir, 'events.4.bin'), seq: 4, size: 4, records: 1 },
      { name: 'events.bin', path, seq: -1, size: 6, records: 1 },
    ],
    totals: { files: 3, bytes: 22, records: 4, payloadBytes: 6 },
    payload: { min: 0, mean: 1.5, max: 3 },
    backups: { first: 3, last: 4 },
    problems: [],
  });
  const empty = makeLog(t, {}, Buffer.alloc(0));
  assert.deepEqual(logStats(empty.path).payload, null);
  assert.deepEqual(logStats(empty.path).backups, null);
});

// --------------------------------------------------------------- lastRecords

test('lastRecords gives the last N records across files, oldest first, reading only the newest files', (t) => {
  const { path, b } = makeLog(t, { 0: frame('a', 'b'), 1: frame('c'), 2: frame('d', 'e', 'f') }, frame('g', 'h'));
  const text = (n: number): string[] => lastRecords(path, n).records.map(String);
  assert.deepEqual(text(0), []);
  assert.deepEqual(text(1), ['h']);
  assert.deepEqual(text(2), ['g', 'h']);
  assert.deepEqual(text(4), ['e', 'f', 'g', 'h']);
  assert.deepEqual(text(6), ['c', 'd', 'e', 'f', 'g', 'h']);
  assert.deepEqual(text(100), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  // The end is just past the last whole record of the current file, which will be backup 3.
  assert.deepEqual(lastRecords(path, 0).end, { seq: 3, offset: 10 });
  assert.deepEqual(lastRecords(path, 100).end, { seq: 3, offset: 10 });
  // A corrupt backup older than the records asked for is not read.
  writeFileSync(b(0), Buffer.from([0, 0, 0, 9]));
  assert.deepEqual(text(6), ['c', 'd', 'e', 'f', 'g', 'h']);
  assert.throws(() => lastRecords(path, 7), (err: unknown) => err instanceof CorruptLogError && err.path === b(0) && err.offset === 0);
  // A torn tail of the current file is left out.
  writeFileSync(path, Buffer.concat([frame('g', 'h'), Buffer.from([0, 0])]));
  assert.deepEqual(text(2), ['g', 'h']);
  assert.deepEqual(lastRecords(path, 1).end, { seq: 3, offset: 10 });
});

// -------------------------------------------------------------------- repair

test('a dry run of repair says what it would do and changes nothing', (t) => {
  const { dir, path, b } = makeLog(t, { 0: frame('a', 'bb'), 3: frame('d') }, frame('cur'));
  setByte(b(0), 5 + 3, 0x7f);
  writeFileSync(path, Buffer.concat([frame('cur'), Buffer.from([0, 0, 0])]));
  writeFileSync(join(dir, '.events.bin.next'), '');
  const before = snapshot(dir);
  const result = repair(path, { dryRun: true });
  assert.deepEqual(snapshot(dir), before);
  assert.equal(result.dryRun, true);
  assert.deepEqual(
    result.actions.map((a) => [a.action, a.path, a.offset, a.bytes, a.sideFile]),
    [
      ['remove-temp', join(dir, '.events.bin.next'), 0, 0, undefined],
      ['set-aside', b(0), 5, 6, `${b(0)}.corrupt-5`],
      ['set-aside', path, 7, 3, `${path}.corrupt-7`],
    ],
  );
  assert.deepEqual(where(result.unfixed), [['numbering-gap', b(1), 0]]);
  assert.equal(result.ok, false);
  assert.match(result.actions[1]!.message, /^would set aside 6 bytes/);
});

test('repair sets aside what cannot be read into side files, cuts the files, and the log reads whole', (t) => {
  const { dir, path, b } = makeLog(t, { 0: frame('a', 'bb', 'ccc'), 1: frame('d') }, frame('cur'));
  setByte(b(0), 5 + 3, 0x7f);
  const backupBytes = readFileSync(b(0));
  const torn = Buffer.from([0, 0, 1, 0, 0x41]);
  writeFileSync(path, Buffer.concat([frame('cur'), torn]));
  writeFileSync(`${b(0)}.corrupt-5`, 'taken'); // a side-file name already taken gets .1

  const result = repair(path);
  assert.equal(result.ok, true);
  assert.deepEqual(
    result.actions.map((a) => [a.action, a.path, a.offset, a.bytes, a.sideFile]),
    [
      ['set-aside', b(0), 5, 13, `${b(0)}.corrupt-5.1`],
      ['set-aside', path, 7, 5, `${path}.corrupt-7`],
    ],
  );
  assert.deepEqual(readFileSync(b(0)), backupBytes.subarray(0, 5));
  assert.deepEqual(readFileSync(`${b(0)}.corrupt-5.1`), backupBytes.subarray(5));
  assert.equal(readFileSync(`${b(0)}.corrupt-5`, 'utf8'), 'taken');
  assert.deepEqual(readFileSync(path), frame('cur'));
  assert.deepEqual(readFileSync(`${path}.corrupt-7`), torn);
  assert.deepEqual(verify(path).problems, []);
  assert.deepEqual(drain(readLog(path)), { records: ['a', 'd', 'cur'], error: undefined });
  assert.deepEqual(repair(path).actions, [], 'a second repair has nothing to do');
  {
    using logger = new BinaryLogger(path, 1000);
    logger.write('after');
  }
  assert.deepEqual(drain(readLog(path)), { records: ['a', 'd', 'cur', 'after'], error: undefined });
  assert.equal(existsSync(join(dir, '.events.bin.lock')), false, 'the lock is released');
});

test('repair clears up an interrupted rollover without losing a record', (t) => {
  const { dir, path, b } = makeLog(t, { 0: frame('a') }, frame('b'));
  linkSync(path, b(1));
  writeFileSync(join(dir, '.events.bin.next'), '');
  const result = repair(path);
  assert.deepEqual(
    result.actions.map((a) => [a.action, a.path]),
    [
      ['remove-temp', join(dir, '.events.bin.next')],
      ['unlink-current', path],
    ],
  );
  assert.deepEqual(readdirSync(dir).sort(), ['events.0.bin', 'events.1.bin']);
  assert.deepEqual(drain(readLog(path)), { records: ['a', 'b'], error: undefined });
  assert.equal(verify(path).ok, true);
});

test('repair moves a temporary file that holds bytes aside instead of removing it', (t) => {
  const { dir, path } = makeLog(t, {}, frame('a'));
  writeFileSync(join(dir, '.events.bin.next'), 'surprise');
  const result = repair(path);
  assert.deepEqual(
    result.actions.map((a) => [a.action, a.sideFile]),
    [['set-aside', join(dir, 'events.bin.next.corrupt-0')]],
  );
  assert.equal(readFileSync(join(dir, 'events.bin.next.corrupt-0'), 'utf8'), 'surprise');
  assert.equal(existsSync(join(dir, '.events.bin.next')), false);
});

test('repair refuses a log that a logger has open, and changes nothing', (t) => {
  const { dir, path } = makeLog(t, { 0: frame('a') }, frame('b'));
  using logger = new BinaryLogger(path, 1000);
  writeFileSync(join(dir, 'events.0.bin'), Buffer.from([0, 0, 0, 9, 1]));
  const before = snapshot(dir);
  assert.throws(() => repair(path), { code: 'ERR_LOGGER_PATH_IN_USE' });
  assert.deepEqual(snapshot(dir), before);
  logger.close();
  assert.equal(repair(path).ok, true);
});

test('repair leaves a compressed backup with a bad record alone and lists it as unfixed', (t) => {
  const { dir, path } = makeLog(t, {}, frame('c'));
  const gz = join(dir, 'events.0.bin.gz');
  const bytes = gzipSync(Buffer.concat([frame('a'), Buffer.from([0, 0, 0, 9])]));
  writeFileSync(gz, bytes);
  const result = repair(path);
  assert.deepEqual(result.actions, []);
  assert.deepEqual(where(result.unfixed), [['length-past-end', gz, 5]]);
  assert.equal(result.ok, false);
  assert.deepEqual(readFileSync(gz), bytes);
});
