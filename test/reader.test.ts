/**
 * Readers (issue 2 items 2 and 5): every record oldest first, never a
 * partial one; a torn tail of the current file is end of data, a short
 * backup is corruption; lengths are checked before allocating.
 */
import assert from 'node:assert/strict';
import { linkSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { BinaryLogger, readLog, type Durability } from '../src/index.js';
import { READ_CHUNK_BYTES } from '../src/reader.js';
import { assertCorrupt, drain, frame, openFds, setByte, tempDir, truncateBy } from './helpers.js';

/** Byte offsets at which each record of `frame(...records)` starts, plus the end. */
function boundaries(records: Array<string | Uint8Array>): number[] {
  const out = [0];
  for (const r of records) out.push(out[out.length - 1]! + frame(r).length);
  return out;
}

/** Record the size of every Buffer.allocUnsafe call until the test ends. */
function recordAllocations(t: TestContext): number[] {
  const sizes: number[] = [];
  const real = Buffer.allocUnsafe;
  t.mock.method(Buffer, 'allocUnsafe', (size: number) => {
    sizes.push(size);
    return real(size);
  });
  return sizes;
}

const RECORDS = ['alpha', '', 'beta', 'gamma-ray', 'é🚀'];

test('a torn tail of the current file ends iteration quietly, at every possible cut', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const full = frame(...RECORDS);
  const ends = boundaries(RECORDS);
  assert.deepEqual(ends, [0, 9, 13, 21, 34, 44]);
  for (let len = 0; len <= full.length; len++) {
    writeFileSync(path, full.subarray(0, len));
    const whole = ends.filter((e) => e > 0 && e <= len).length;
    const expected = RECORDS.slice(0, whole);
    assert.deepEqual([...readLog(path)], expected, `cut at ${len}`);
    assert.deepEqual(
      [...readLog(path, { encoding: 'buffer' })],
      expected.map((r) => Buffer.from(r)),
      `cut at ${len}, buffers`,
    );
    assert.equal(readFileSync(path).length, len, 'reading never changes the file');
  }
});

test('a backup cut mid-record throws CorruptLogError with path and offset after the records before it, at every possible cut', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const backup = join(dir, 'events.0.bin');
  const full = frame(...RECORDS);
  const ends = boundaries(RECORDS);
  writeFileSync(path, frame('current'));
  for (let len = 0; len <= full.length; len++) {
    writeFileSync(backup, full.subarray(0, len));
    const whole = ends.filter((e) => e > 0 && e <= len).length;
    const expected = RECORDS.slice(0, whole);
    for (const encoding of ['utf8', 'buffer'] as const) {
      const it = readLog(path, { encoding }) as Iterator<string | Buffer>;
      const { records, error } = drain(it);
      assert.deepEqual(
        records.map((r) => r.toString()),
        ends.includes(len) ? [...expected, 'current'] : expected,
        `cut at ${len}, ${encoding}`,
      );
      if (ends.includes(len)) {
        assert.equal(error, undefined, `cut at ${len} is a record boundary`);
      } else {
        assertCorrupt(error, backup, ends[whole]!);
        assert.deepEqual(it.next(), { done: true, value: undefined }, 'the iterator is done after the error');
      }
    }
  }
});

/**
 * Backups damaged in one way each: the reader yields the records before the
 * damage, then throws CorruptLogError naming the damaged file and offset.
 */
const DAMAGED_BACKUPS: Array<{
  title: string;
  files: Record<string, Buffer>;
  damage?: (dir: string) => void;
  yields: string[];
  at: [file: string, offset: number];
}> = [
  {
    title: 'a length made larger by byte surgery in a backup throws at that record after the ones before it',
    files: { 'events.0.bin': frame('a', 'bb', 'ccc'), 'events.bin': frame('current') },
    damage: (dir) => setByte(join(dir, 'events.0.bin'), 5 + 3, 0x7f), // the length of 'bb' (at offset 5) becomes 127
    yields: ['a'],
    at: ['events.0.bin', 5],
  },
  {
    title: 'a length made smaller misframes the rest of a backup, which the reader reports where a record runs past the end',
    files: { 'events.0.bin': frame('hello', 'x') },
    // 'hello' now claims 2 bytes: 'he'. Then 'llo\0' is read as a length of
    // 0x6c6c6f00 bytes at offset 6.
    damage: (dir) => setByte(join(dir, 'events.0.bin'), 3, 2),
    yields: ['he'],
    at: ['events.0.bin', 6],
  },
  {
    title: 'a backup holding only part of a length throws at offset 0',
    files: { 'events.2.bin': frame('two'), 'events.3.bin': Buffer.from([0, 0]) },
    yields: ['two'],
    at: ['events.3.bin', 0],
  },
  {
    title: 'a truncated backup between good ones stops the read there: later files are not read',
    files: {
      'events.0.bin': frame('zero'),
      'events.1.bin': frame('one-a', 'one-b'),
      'events.2.bin': frame('two'),
      'events.bin': frame('current'),
    },
    damage: (dir) => truncateBy(join(dir, 'events.1.bin'), 1),
    yields: ['zero', 'one-a'],
    at: ['events.1.bin', 9],
  },
];

for (const c of DAMAGED_BACKUPS) {
  test(c.title, (t) => {
    const dir = tempDir(t);
    for (const [name, bytes] of Object.entries(c.files)) writeFileSync(join(dir, name), bytes);
    c.damage?.(dir);
    const { records, error } = drain(readLog(join(dir, 'events.bin')));
    assert.deepEqual(records, c.yields);
    assertCorrupt(error, join(dir, c.at[0]), c.at[1]);
  });
}

for (const where of ['backup', 'current file'] as const) {
  test(`a length of 0xFFFFFFF0 in a small ${where} is caught before any large allocation`, (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const bytes = Buffer.concat([frame('ok'), Buffer.from([0xff, 0xff, 0xff, 0xf0]), Buffer.from('abcdef')]);
    const file = where === 'backup' ? join(dir, 'events.0.bin') : path;
    writeFileSync(file, bytes);
    const sizes = recordAllocations(t);
    const started = performance.now();
    const { records, error } = drain(readLog(path));
    const ms = performance.now() - started;
    t.mock.restoreAll();
    assert.deepEqual(records, ['ok']);
    // Beyond MAX_PAYLOAD_BYTES and past the end: corrupt in any file (not a torn write).
    assertCorrupt(error, file, 6, 'bad-length');
    assert.ok(Math.max(0, ...sizes) <= bytes.length + 4, `largest allocation ${Math.max(0, ...sizes)} bytes`);
    assert.ok(ms < 1000, `took ${ms} ms`);
  });
}

test('records larger than the 1 MiB read chunk, and one whose length straddles a chunk boundary, are read whole', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const pattern = (n: number, seed: number): Buffer => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
    return b;
  };
  const payloads = [
    pattern(READ_CHUNK_BYTES - 6, 1), // ends 2 bytes before the chunk boundary
    Buffer.from('straddles'), // its length spans the boundary
    pattern(READ_CHUNK_BYTES, 2),
    Buffer.alloc(0),
    pattern(READ_CHUNK_BYTES + 1, 3),
    Buffer.from('small'),
    pattern(3 * READ_CHUNK_BYTES + 7, 4),
    Buffer.from('last'),
  ];
  {
    // Rolls over after the third and after the seventh record.
    using logger = new BinaryLogger(path, 2 * READ_CHUNK_BYTES);
    for (const p of payloads) logger.write(p);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['events.0.bin', 'events.1.bin', 'events.bin']);
  const buffers = [...readLog(path, { encoding: 'buffer' })];
  assert.equal(buffers.length, payloads.length);
  buffers.forEach((b, i) => assert.ok(b.equals(payloads[i]!), `record ${i} (${payloads[i]!.length} bytes)`));
  const strings = [...readLog(path)];
  assert.deepEqual(
    strings.map((s) => s.length),
    payloads.map((p) => p.toString().length),
  );
  assert.equal(strings[1], 'straddles');
  assert.equal(strings[7], 'last');
});

test('a backup that ends inside a record larger than the read chunk throws at that record', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const backup = join(dir, 'events.0.bin');
  writeFileSync(backup, frame('first', Buffer.alloc(2 * READ_CHUNK_BYTES, 1)));
  truncateBy(backup, 1);
  const { records, error } = drain(readLog(path));
  assert.deepEqual(records, ['first']);
  assertCorrupt(error, backup, 9);
});

test('raw buffers stay valid after the iteration moves on', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const payloads: Buffer[] = [];
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.alloc((i * 7919) % 2000, i & 0xff);
    if (b.length >= 4) b.writeUInt32BE(i, 0);
    payloads.push(b);
  }
  {
    using logger = new BinaryLogger(path, 2 * READ_CHUNK_BYTES); // one rollover along the way
    for (const p of payloads) logger.write(p);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['events.0.bin', 'events.bin']);
  const collected = [...readLog(path, { encoding: 'buffer' })];
  assert.equal(collected.length, payloads.length);
  for (let i = 0; i < payloads.length; i++) {
    assert.ok(Buffer.isBuffer(collected[i]));
    assert.ok(collected[i]!.equals(payloads[i]!), `record ${i}`);
  }
});

for (const durability of ['sync', 'buffered'] as const satisfies readonly Durability[]) {
  test(`logger.read() sees the logger's own writes in ${durability} durability`, (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    using logger = new BinaryLogger(path, { maxFileSize: 12, durability, flushInterval: 0 });
    assert.deepEqual([...logger.read()], []);
    logger.write('r1');
    assert.deepEqual([...logger.read()], ['r1']);
    logger.write('r2'); // rolls over
    logger.write('r3');
    assert.deepEqual([...logger.read()], ['r1', 'r2', 'r3']);
    assert.deepEqual([...readLog(path)], ['r1', 'r2', 'r3']);
  });
}

test('logger.read() with another path reads that log, given as a string or a URL', (t) => {
  const dir = tempDir(t);
  const mine = join(dir, 'a', 'events.bin');
  const other = join(dir, 'b', 'other.log');
  using a = new BinaryLogger(mine, 100);
  using b = new BinaryLogger(other, 10);
  a.write('mine');
  b.write('theirs 1');
  b.write('theirs 2');
  assert.deepEqual([...a.read(other)], ['theirs 1', 'theirs 2']);
  assert.deepEqual([...a.read(pathToFileURL(other))], ['theirs 1', 'theirs 2']);
  assert.deepEqual([...a.read()], ['mine']);
  assert.deepEqual([...b.read(mine)], ['mine']);
});

test('reading a log that does not exist throws ENOENT naming the path and creates nothing', (t) => {
  const dir = tempDir(t);
  for (const path of [join(dir, 'missing', 'events.bin'), join(dir, 'events.bin')]) {
    assert.throws(() => readLog(path), { code: 'ENOENT', syscall: 'open', path });
  }
  assert.deepEqual(readdirSync(dir), []);
});

test('a log of backups only, with an empty backup and gaps, is read in numeric order', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(join(dir, 'events.0.bin'), '');
  writeFileSync(join(dir, 'events.2.bin'), frame('two'));
  writeFileSync(join(dir, 'events.10.bin'), frame('ten'));
  writeFileSync(join(dir, 'events.9.bin'), frame('nine'));
  assert.deepEqual([...readLog(path)], ['two', 'nine', 'ten']);
});

test('readLog refuses an unknown encoding and a path of the wrong type at the call', () => {
  assert.throws(() => readLog('/tmp/x.bin', { encoding: 'latin1' as 'utf8' }), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
  });
  assert.throws(() => readLog(42 as unknown as string), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
});

test('a current file that is still a hard link of the last backup is read once', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(join(dir, 'events.0.bin'), frame('zero'));
  writeFileSync(join(dir, 'events.1.bin'), frame('one', 'two'));
  linkSync(join(dir, 'events.1.bin'), path); // a rollover between its link and its rename
  assert.deepEqual([...readLog(path)], ['zero', 'one', 'two']);
});

test('a rollover while iterating is read through without losing or repeating a record', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  using logger = new BinaryLogger(path, 12);
  logger.write('r0');
  logger.write('r1'); // events.0.bin
  logger.write('r2');
  const it = readLog(path);
  assert.deepEqual(it.next(), { done: false, value: 'r0' });
  logger.write('r3'); // events.1.bin: r2 r3
  logger.write('r4'); // current
  assert.deepEqual([...it], ['r1', 'r2', 'r3', 'r4']);
});

test('leaving a read early, or after an error, closes its file', (t) => {
  const before = openFds();
  if (before === undefined) {
    t.skip('/proc/self/fd is not available to count open files');
    return;
  }
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(join(dir, 'events.0.bin'), frame('a', 'b'));
  writeFileSync(join(dir, 'events.1.bin'), frame('c').subarray(0, 3));
  writeFileSync(path, frame('d'));
  for (const r of readLog(path)) {
    assert.equal(r, 'a');
    assert.equal(openFds(), before + 1, 'one file open while reading');
    break;
  }
  assert.equal(openFds(), before);
  assert.throws(() => [...readLog(path)], { name: 'CorruptLogError' });
  assert.equal(openFds(), before);
});
