/**
 * BinaryLogger, rule by rule (issue 2 items 2-5): the constructor's forms,
 * rollover and backup numbering, payloads, close and `using`, bad input
 * (clear error, disk unchanged), and crash recovery at open.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { nodeFs, type FsOps } from '../src/fsops.js';
import { BinaryLogger, readLog } from '../src/index.js';
import { frame, listFiles, predictFiles, tempDir, captureWarnings, type Warning } from './helpers.js';

/**
 * While a logger is open, its lock file `.<name>.lock` sits beside the
 * current file (one writer per log); it is not part of the log. Listings
 * taken while a logger is open leave it out; listings after close do not.
 */
const LOCK_FILE = /^\..+\.lock$/;

/** listFiles without the open logger's lock file. */
function logListing(dir: string): Array<{ name: string; size: number }> {
  return listFiles(dir).filter((f) => !LOCK_FILE.test(f.name));
}

/** Every file and directory under `dir`, with the bytes of each file (hex). */
function snapshot(dir: string, options: { skipLock?: boolean } = {}, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    if (options.skipLock && LOCK_FILE.test(name)) continue;
    const path = join(dir, name);
    const rel = prefix + name;
    if (statSync(path).isDirectory()) {
      out[`${rel}/`] = '<dir>';
      Object.assign(out, snapshot(path, options, `${rel}/`));
    } else {
      out[rel] = readFileSync(path).toString('hex');
    }
  }
  return out;
}


/** Warnings with `code` whose message names `path`. */
function warningsFor(seen: Warning[], code: string, path: string): Warning[] {
  return seen.filter((w) => w.code === code && w.message.includes(path));
}

/** A 50-character payload: 54 bytes on disk, as in SPEC.md's example. */
function fifty(i: number): string {
  return `record ${i} `.padEnd(50, '.');
}

// ------------------------------------------------------------ constructor

for (const form of ['number', 'options'] as const) {
  test(`the ${form} form of the constructor writes the spec example byte for byte`, (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    const payloads = Array.from({ length: 10 }, (_, i) => fifty(i));
    const logger = form === 'number' ? new BinaryLogger(path, 100) : new BinaryLogger(path, { maxFileSize: 100 });
    assert.equal(logger.path, path);
    assert.equal(logger.maxFileSize, 100);
    for (const p of payloads) logger.write(p);
    logger.close();
    const predicted = predictFiles(payloads, 100);
    assert.equal(predicted.length, 6);
    assert.deepEqual(
      listFiles(dir).map((f) => f.name),
      ['events.0.bin', 'events.1.bin', 'events.2.bin', 'events.3.bin', 'events.4.bin', 'events.bin'],
    );
    for (let seq = 0; seq < 5; seq++) {
      assert.deepEqual(readFileSync(join(dir, `events.${seq}.bin`)), predicted[seq], `events.${seq}.bin`);
      assert.equal(predicted[seq]!.length, 108);
    }
    assert.deepEqual(readFileSync(path), Buffer.alloc(0));
    assert.deepEqual([...readLog(path)], payloads);
  });
}

test('a file: URL path names the same log as its string path', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  {
    using logger = new BinaryLogger(pathToFileURL(path), 10);
    assert.equal(logger.path, path);
    logger.write('via URL'); // 11 bytes: rolls over
    logger.write('after');
  }
  assert.deepEqual(listFiles(dir), [
    { name: 'events.0.bin', size: 11 },
    { name: 'events.bin', size: 9 },
  ]);
  assert.deepEqual([...readLog(pathToFileURL(path))], ['via URL', 'after']);
  assert.deepEqual([...readLog(path)], ['via URL', 'after']);
});

test('a relative string path resolves against the working directory', (t) => {
  const dir = tempDir(t);
  const absolute = join(dir, 'rel', 'events.bin');
  const rel = relative(process.cwd(), absolute);
  assert.ok(!rel.startsWith('/'));
  {
    using logger = new BinaryLogger(rel, 1000);
    assert.equal(logger.path, absolute);
    logger.write('relative');
  }
  assert.deepEqual(readFileSync(absolute), frame('relative'));
});

test('opening a log creates its parent directories and an empty current file', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'a', 'b', 'c', 'events.bin');
  const logger = new BinaryLogger(path, 100);
  assert.deepEqual(snapshot(dir, { skipLock: true }), { 'a/': '<dir>', 'a/b/': '<dir>', 'a/b/c/': '<dir>', 'a/b/c/events.bin': '' });
  logger.write('deep');
  logger.close();
  assert.deepEqual(snapshot(dir), { 'a/': '<dir>', 'a/b/': '<dir>', 'a/b/c/': '<dir>', 'a/b/c/events.bin': frame('deep').toString('hex') });
});

test('a second logger on a path already open in this thread is refused, and the first keeps working', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const first = new BinaryLogger(path, 100);
  t.after(() => first.close());
  assert.throws(() => new BinaryLogger(path, 100), { name: 'Error', code: 'ERR_LOGGER_PATH_IN_USE' });
  first.write('one');
  first.close();
  {
    using second = new BinaryLogger(path, 100);
    second.write('two');
  }
  assert.deepEqual(readFileSync(path), frame('one', 'two'));
});

// ------------------------------------------------------ rollover, numbering

test('numbering resumes one above the highest backup after reopening', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const payloads = Array.from({ length: 10 }, (_, i) => fifty(i));
  {
    using logger = new BinaryLogger(path, 100);
    for (const p of payloads.slice(0, 5)) logger.write(p);
  }
  assert.deepEqual(listFiles(dir), [
    { name: 'events.0.bin', size: 108 },
    { name: 'events.1.bin', size: 108 },
    { name: 'events.bin', size: 54 },
  ]);
  {
    using logger = new BinaryLogger(path, 100);
    for (const p of payloads.slice(5)) logger.write(p);
  }
  const predicted = predictFiles(payloads, 100);
  const names = ['events.0.bin', 'events.1.bin', 'events.2.bin', 'events.3.bin', 'events.4.bin', 'events.bin'];
  assert.deepEqual(
    listFiles(dir).map((f) => f.name),
    names,
  );
  names.forEach((name, i) => assert.deepEqual(readFileSync(join(dir, name)), predicted[i], name));
  assert.deepEqual([...readLog(path)], payloads);
});

test('gaps in the numbering are read through and the next rollover takes one above the highest', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(join(dir, 'events.0.bin'), frame('b0'));
  writeFileSync(join(dir, 'events.7.bin'), frame('b7'));
  writeFileSync(join(dir, 'events.8.bin'), frame('b8a', 'b8b'));
  {
    using logger = new BinaryLogger(path, 10);
    logger.write('c1'); // 6 bytes
    logger.write('c2'); // 12 bytes >= 10: rolls over to seq 9
    logger.write('c3');
  }
  assert.deepEqual(listFiles(dir), [
    { name: 'events.0.bin', size: 6 },
    { name: 'events.7.bin', size: 6 },
    { name: 'events.8.bin', size: 14 },
    { name: 'events.9.bin', size: 12 },
    { name: 'events.bin', size: 6 },
  ]);
  assert.deepEqual(readFileSync(join(dir, 'events.9.bin')), frame('c1', 'c2'));
  assert.deepEqual([...readLog(path)], ['b0', 'b7', 'b8a', 'b8b', 'c1', 'c2', 'c3']);
});

test('look-alike names are never read, renamed or deleted, and do not count toward seq', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const lookAlikes = [
    'events.x.bin',
    'events.01.bin', // the original took this as seq 1; only canonical seqs count here
    'events.bin.bak',
    'other.0.bin',
    'events..bin',
    'events.-1.bin',
    'events.0.bin.bak',
    'events.1.log',
    'events.5',
  ];
  for (const name of lookAlikes) writeFileSync(join(dir, name), frame(`look-alike ${name}`));
  const before = snapshot(dir);
  const payloads = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6'];
  {
    using logger = new BinaryLogger(path, 10);
    for (const p of payloads) logger.write(p); // 6 bytes each: two per file
  }
  const after = snapshot(dir);
  for (const name of lookAlikes) assert.equal(after[name], before[name], `${name} untouched`);
  assert.deepEqual(Object.keys(after).sort(), [...lookAlikes, 'events.0.bin', 'events.1.bin', 'events.2.bin', 'events.bin'].sort());
  assert.deepEqual(readFileSync(join(dir, 'events.0.bin')), frame('r0', 'r1'));
  assert.deepEqual(readFileSync(join(dir, 'events.1.bin')), frame('r2', 'r3'));
  assert.deepEqual(readFileSync(join(dir, 'events.2.bin')), frame('r4', 'r5'));
  assert.deepEqual(readFileSync(path), frame('r6'));
  assert.deepEqual([...readLog(path)], payloads);
});

test('twelve backups are read in numeric order, 10 and 11 after 9', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const payloads = Array.from({ length: 13 }, (_, i) => `record ${i}`);
  {
    using logger = new BinaryLogger(path, 1); // every record rolls over
    for (const p of payloads.slice(0, 12)) logger.write(p);
  }
  const names = listFiles(dir).map((f) => f.name);
  assert.deepEqual(names, [
    'events.0.bin',
    'events.1.bin',
    'events.10.bin',
    'events.11.bin',
    'events.2.bin',
    'events.3.bin',
    'events.4.bin',
    'events.5.bin',
    'events.6.bin',
    'events.7.bin',
    'events.8.bin',
    'events.9.bin',
    'events.bin',
  ]);
  for (let seq = 0; seq < 12; seq++) {
    assert.deepEqual(readFileSync(join(dir, `events.${seq}.bin`)), frame(`record ${seq}`), `events.${seq}.bin`);
  }
  assert.deepEqual([...readLog(path)], payloads.slice(0, 12));
  {
    using logger = new BinaryLogger(path, 1000);
    logger.write(payloads[12]!);
    assert.deepEqual([...logger.read()], payloads);
  }
});

test('a record larger than maxFileSize written to an empty current file is alone in its backup', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'big.bin');
  const big = 'x'.repeat(100);
  const bigger = 'y'.repeat(50);
  {
    using logger = new BinaryLogger(path, 10);
    logger.write(big); // alone: rolls over at once
    logger.write('a'); // 5 bytes, stays current
    logger.write(bigger); // 5 + 54 >= 10: the file exceeds maxFileSize by its last record
    logger.write('b');
  }
  assert.deepEqual(listFiles(dir), [
    { name: 'big.0.bin', size: 104 },
    { name: 'big.1.bin', size: 59 },
    { name: 'big.bin', size: 5 },
  ]);
  assert.deepEqual(readFileSync(join(dir, 'big.0.bin')), frame(big));
  assert.deepEqual(readFileSync(join(dir, 'big.1.bin')), frame('a', bigger));
  assert.deepEqual([...readLog(path)], [big, 'a', bigger, 'b']);
});

test('a record larger than the staging buffer is written whole and rolls over like any other', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const huge = Buffer.alloc(200 * 1024, 0xab);
  const hugeString = 'é'.repeat(70 * 1024); // 140 KiB of UTF-8
  {
    using logger = new BinaryLogger(path, 300 * 1024);
    logger.write('small');
    logger.write(huge);
    logger.write(hugeString); // file reaches 9 + 204804 + 143364 >= 300 KiB: rolls over
    logger.write('after');
  }
  assert.deepEqual(readFileSync(join(dir, 'events.0.bin')), frame('small', huge, hugeString));
  assert.deepEqual(readFileSync(path), frame('after'));
});

// -------------------------------------------------------------- payloads

test('an empty string is a record of length 0, four zero bytes on disk', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  {
    using logger = new BinaryLogger(path, 100);
    logger.write('');
    assert.deepEqual(readFileSync(path), Buffer.from([0, 0, 0, 0]));
    logger.write(new Uint8Array(0));
    assert.deepEqual([...logger.read()], ['', '']);
  }
  assert.deepEqual(readFileSync(path), Buffer.alloc(8));
});

test('an empty record alone reaches a maxFileSize of 4 and rolls over', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  {
    using logger = new BinaryLogger(path, 4);
    logger.write('');
    logger.write('');
  }
  assert.deepEqual(listFiles(dir), [
    { name: 'events.0.bin', size: 4 },
    { name: 'events.1.bin', size: 4 },
    { name: 'events.bin', size: 0 },
  ]);
  assert.deepEqual([...readLog(path)], ['', '']);
});

test('special characters and unicode are written as UTF-8 and read back unchanged', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const payloads = [
    'Line\ntest',
    'CRLF\r\ntest',
    'Tab\ttest',
    'Null\0test',
    '\0',
    'Quote"test',
    "Apostrophe'test",
    'Backslash\\test',
    'RecordSeparator\x1etest',
    '\x7f\x01\x1b[0m',
    'Grüße',
    '日本語のログ',
    '🚀🔥',
    '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}', // family: ZWJ sequence
    'e\u0301', // combining acute
    '\uFEFFBOM first',
    '\uFFFD',
    '\u{10FFFF}',
    '\u2028\u2029',
  ];
  {
    using logger = new BinaryLogger(path, 1 << 20);
    for (const p of payloads) logger.write(p);
  }
  assert.deepEqual(readFileSync(path), frame(...payloads));
  assert.deepEqual([...readLog(path)], payloads);
  assert.deepEqual(
    [...readLog(path, { encoding: 'buffer' })],
    payloads.map((p) => Buffer.from(p, 'utf8')),
  );
  // Spot checks of the encoding itself, not just a round trip.
  assert.deepEqual(frame('🚀'), Buffer.from([0, 0, 0, 4, 0xf0, 0x9f, 0x9a, 0x80]));
  assert.deepEqual(frame('é'), Buffer.from([0, 0, 0, 2, 0xc3, 0xa9]));
});

test('a Uint8Array payload is written byte for byte, only the bytes of its view', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const backing = Buffer.from('0123456789');
  const view = backing.subarray(3, 6); // '345', byteOffset 3
  const offsetView = new Uint8Array(backing.buffer, backing.byteOffset + 7, 2); // '78'
  const invalidUtf8 = new Uint8Array([0xff, 0xfe, 0x80, 0x41]);
  {
    using logger = new BinaryLogger(path, 1 << 20);
    logger.write(all);
    logger.write(view);
    logger.write(offsetView);
    logger.write(invalidUtf8);
  }
  assert.deepEqual(readFileSync(path), frame(all, Buffer.from('345'), Buffer.from('78'), invalidUtf8));
  assert.deepEqual(
    [...readLog(path, { encoding: 'buffer' })],
    [Buffer.from(all), Buffer.from('345'), Buffer.from('78'), Buffer.from(invalidUtf8)],
  );
  const strings = [...readLog(path)];
  assert.equal(strings[1], '345');
  assert.equal(strings[3], '\uFFFD\uFFFD\uFFFDA');
});

// ------------------------------------------------------- close and using

test('write and flush after close throw ERR_LOGGER_CLOSED and write nothing', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const logger = new BinaryLogger(path, 100);
  logger.write('before');
  logger.close();
  const before = snapshot(dir);
  assert.throws(() => logger.write('after'), (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.equal(err.constructor, Error);
    assert.equal(err.name, 'Error');
    assert.equal((err as Error & { code?: string }).code, 'ERR_LOGGER_CLOSED');
    assert.ok(err.message.includes(path), err.message);
    return true;
  });
  assert.throws(() => logger.write(new Uint8Array([1])), { name: 'Error', code: 'ERR_LOGGER_CLOSED' });
  assert.throws(() => logger.flush(), { name: 'Error', code: 'ERR_LOGGER_CLOSED' });
  assert.deepEqual(snapshot(dir), before);
  assert.deepEqual([...logger.read()], ['before']);
});

test('a second close does nothing', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const logger = new BinaryLogger(path, 100);
  logger.write('only');
  logger.close();
  const before = snapshot(dir);
  assert.doesNotThrow(() => logger.close());
  assert.equal(logger.closed, true);
  assert.deepEqual(snapshot(dir), before);
});

test('closed is false while open and true after close', (t) => {
  const dir = tempDir(t);
  const logger = new BinaryLogger(join(dir, 'events.bin'), 100);
  assert.equal(logger.closed, false);
  logger.write('x');
  assert.equal(logger.closed, false);
  logger.flush();
  assert.equal(logger.closed, false);
  logger.close();
  assert.equal(logger.closed, true);
});

test('a using declaration closes the logger at the end of its block', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  let escaped: BinaryLogger | undefined;
  {
    using logger = new BinaryLogger(path, 100);
    escaped = logger;
    logger.write('inside');
    assert.equal(logger.closed, false);
  }
  assert.equal(escaped.closed, true);
  assert.throws(() => escaped.write('outside'), { code: 'ERR_LOGGER_CLOSED' });
  assert.deepEqual(readFileSync(path), frame('inside'));
});

test('a using declaration closes the logger when its block throws', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  let escaped: BinaryLogger | undefined;
  assert.throws(
    () => {
      using logger = new BinaryLogger(path, 100);
      escaped = logger;
      logger.write('before the throw');
      throw new Error('boom');
    },
    { message: 'boom' },
  );
  assert.equal(escaped?.closed, true);
  // The path is free again: a new logger opens it.
  {
    using again = new BinaryLogger(path, 100);
    again.write('again');
  }
  assert.deepEqual([...readLog(path)], ['before the throw', 'again']);
});

test('Symbol.dispose is close', (t) => {
  const dir = tempDir(t);
  const logger = new BinaryLogger(join(dir, 'events.bin'), 100);
  logger[Symbol.dispose]();
  assert.equal(logger.closed, true);
  assert.doesNotThrow(() => logger[Symbol.dispose]());
});

// --------------------------------------------------------------- bad input

const OUT_OF_RANGE_SIZES: Array<[label: string, value: number]> = [
  ['0', 0],
  ['-0', -0],
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['2**53', 2 ** 53],
];

for (const form of ['number', 'options'] as const) {
  for (const [label, value] of OUT_OF_RANGE_SIZES) {
    test(`maxFileSize ${label} in the ${form} form is a RangeError ERR_OUT_OF_RANGE and creates nothing`, (t) => {
      const dir = tempDir(t);
      const path = join(dir, 'sub', 'events.bin');
      assert.throws(
        () => (form === 'number' ? new BinaryLogger(path, value) : new BinaryLogger(path, { maxFileSize: value })),
        (err: unknown) => {
          assert.ok(err instanceof RangeError, String(err));
          assert.equal((err as RangeError & { code?: string }).code, 'ERR_OUT_OF_RANGE');
          assert.match(err.message, /"maxFileSize"/);
          return true;
        },
      );
      assert.deepEqual(readdirSync(dir), []);
    });
  }
}

const WRONG_TYPE_SIZES: Array<[label: string, value: unknown]> = [
  ["'10'", '10'],
  ['null', null],
  ['undefined', undefined],
  ['10n', 10n],
  ['true', true],
];

for (const form of ['number', 'options'] as const) {
  for (const [label, value] of WRONG_TYPE_SIZES) {
    test(`maxFileSize ${label} in the ${form} form is a TypeError ERR_INVALID_ARG_TYPE and creates nothing`, (t) => {
      const dir = tempDir(t);
      const path = join(dir, 'sub', 'events.bin');
      assert.throws(
        () =>
          form === 'number'
            ? new BinaryLogger(path, value as number)
            : new BinaryLogger(path, { maxFileSize: value as number }),
        (err: unknown) => {
          assert.ok(err instanceof TypeError, String(err));
          assert.equal((err as TypeError & { code?: string }).code, 'ERR_INVALID_ARG_TYPE');
          assert.match(err.message, /"maxFileSize"/);
          return true;
        },
      );
      assert.deepEqual(readdirSync(dir), []);
    });
  }
}

test('options without maxFileSize are a TypeError ERR_INVALID_ARG_TYPE and create nothing', (t) => {
  const dir = tempDir(t);
  assert.throws(() => new BinaryLogger(join(dir, 'events.bin'), {} as { maxFileSize: number }), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
  });
  assert.deepEqual(readdirSync(dir), []);
});

test('a path that is not a string or URL is a TypeError ERR_INVALID_ARG_TYPE', () => {
  for (const bad of [42, null, undefined, {}, Buffer.from('/tmp/x')]) {
    assert.throws(() => new BinaryLogger(bad as string, 100), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }, String(bad));
  }
});

test('an empty path or one with a NUL byte is a TypeError ERR_INVALID_ARG_VALUE and creates nothing', (t) => {
  const dir = tempDir(t);
  assert.throws(() => new BinaryLogger('', 100), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => new BinaryLogger(join(dir, 'ev\0ents.bin'), 100), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  assert.deepEqual(readdirSync(dir), []);
});

const WRONG_TYPE_PAYLOADS: Array<[label: string, value: unknown]> = [
  ['a number', 42],
  ['an object', { text: 'hi' }],
  ['null', null],
  ['undefined', undefined],
  ['an array of bytes', [104, 105]],
  ['a boolean', true],
  ['a bigint', 1n],
  ['a symbol', Symbol('s')],
  ['an ArrayBuffer', new ArrayBuffer(4)],
  ['a Uint16Array', new Uint16Array(2)],
  ['a DataView', new DataView(new ArrayBuffer(2))],
];

for (const [label, value] of WRONG_TYPE_PAYLOADS) {
  test(`a payload that is ${label} is a TypeError ERR_INVALID_ARG_TYPE and writes nothing`, (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    using logger = new BinaryLogger(path, 1); // any record written would also roll over
    const before = snapshot(dir);
    assert.throws(() => logger.write(value as string), (err: unknown) => {
      assert.ok(err instanceof TypeError, String(err));
      assert.equal((err as TypeError & { code?: string }).code, 'ERR_INVALID_ARG_TYPE');
      assert.match(err.message, /"payload"/);
      return true;
    });
    assert.deepEqual(snapshot(dir), before);
    logger.write('still works');
    assert.deepEqual([...logger.read()], ['still works']);
  });
}

const LONE_SURROGATES: Array<[label: string, value: string]> = [
  ["'\\uD800'", '\uD800'],
  ["'a\\uDC00b'", 'a\uDC00b'],
  ['a high surrogate at the end', 'ok\uDBFF'],
  ['a reversed pair', '\uDC00\uD800'],
  ['a lone surrogate after 100 KiB', `${'x'.repeat(100 * 1024)}\uD83D`],
];

for (const [label, value] of LONE_SURROGATES) {
  test(`a string with a lone surrogate (${label}) is a TypeError ERR_INVALID_ARG_VALUE and writes nothing`, (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    using logger = new BinaryLogger(path, 1 << 20);
    logger.write('first');
    const before = snapshot(dir);
    assert.throws(() => logger.write(value), (err: unknown) => {
      assert.ok(err instanceof TypeError, String(err));
      assert.equal((err as TypeError & { code?: string }).code, 'ERR_INVALID_ARG_VALUE');
      assert.match(err.message, /"payload"/);
      return true;
    });
    assert.deepEqual(snapshot(dir), before);
    assert.deepEqual(readFileSync(path), frame('first'));
  });
}

test('a well-formed surrogate pair is one 4-byte UTF-8 character', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  {
    using logger = new BinaryLogger(path, 100);
    logger.write('\uD83D\uDE00');
  }
  assert.deepEqual(readFileSync(path), Buffer.from([0, 0, 0, 4, 0xf0, 0x9f, 0x98, 0x80]));
});

test('a Uint8Array of 2**32 bytes is a RangeError ERR_OUT_OF_RANGE and writes nothing', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  using logger = new BinaryLogger(path, 10);
  logger.write('ok');
  const before = snapshot(dir);
  const huge = new Uint8Array(2 ** 32); // lazily zeroed: costs no memory until touched
  assert.throws(() => logger.write(huge), (err: unknown) => {
    assert.ok(err instanceof RangeError, String(err));
    assert.equal((err as RangeError & { code?: string }).code, 'ERR_OUT_OF_RANGE');
    assert.match(err.message, /4294967296/);
    return true;
  });
  assert.deepEqual(snapshot(dir), before);
  logger.write('after');
  assert.deepEqual([...logger.read()], ['ok', 'after']);
});

test('a path that is a directory throws EISDIR naming the path and changes nothing', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  mkdirSync(path);
  const before = snapshot(dir);
  assert.throws(() => new BinaryLogger(path, 100), (err: unknown) => {
    assert.equal((err as NodeJS.ErrnoException).code, 'EISDIR');
    assert.ok((err as Error).message.includes(path), (err as Error).message);
    return true;
  });
  assert.deepEqual(snapshot(dir), before);
});

/**
 * A regular file in the way of the log's directory: the error is the
 * open's ENOTDIR naming the log path, not mkdir's naming that file.
 */

for (const [label, segments] of [
  ['parent', ['file', 'events.bin']],
  ['grandparent', ['file', 'sub', 'events.bin']],
] as const) {
  test(`a path whose ${label} is a regular file throws ENOTDIR naming the path and changes nothing`, (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'file'), 'not a directory');
    const before = snapshot(dir);
    const path = join(dir, ...segments);
    assert.throws(() => new BinaryLogger(path, 100), (err: unknown) => {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOTDIR', String(err));
      assert.ok((err as Error).message.includes(path), (err as Error).message);
      return true;
    });
    assert.deepEqual(snapshot(dir), before);
  });
}

test('a directory without write permission throws EACCES naming the path', (t) => {
  if (process.getuid?.() === 0) {
    t.skip('running as root, which may write anywhere: EACCES cannot be provoked');
    return;
  }
  const dir = tempDir(t);
  const locked = join(dir, 'locked');
  mkdirSync(locked);
  chmodSync(locked, 0o500);
  t.after(() => chmodSync(locked, 0o700));
  const path = join(locked, 'events.bin');
  assert.throws(() => new BinaryLogger(path, 100), (err: unknown) => {
    assert.equal((err as NodeJS.ErrnoException).code, 'EACCES');
    assert.ok((err as Error).message.includes(path), (err as Error).message);
    return true;
  });
  assert.deepEqual(readdirSync(locked), []);
});

test('a write that fails part-way throws the OS error and leaves no byte of its record', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  let failNext = false;
  const fs: FsOps = {
    ...nodeFs,
    writeSync(fd, buf, offset, length) {
      if (!failNext) return nodeFs.writeSync(fd, buf, offset, length);
      failNext = false;
      nodeFs.writeSync(fd, buf, offset, Math.floor(length / 2)); // half the record reaches the file
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    },
  };
  using logger = new BinaryLogger(path, { maxFileSize: 1000, fs });
  logger.write('first');
  failNext = true;
  assert.throws(() => logger.write('second record'), (err: unknown) => {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    assert.ok((err as Error).message.includes(path), (err as Error).message);
    return true;
  });
  assert.deepEqual(readFileSync(path), frame('first'));
  logger.write('third');
  assert.deepEqual(readFileSync(path), frame('first', 'third'));
});

// ------------------------------------------------------ crash recovery at open

const RECORDS = ['alpha', 'beta', 'gamma']; // 9, 8 and 9 bytes on disk
const WHOLE = frame('alpha', 'beta').length; // 17

for (const torn of [1, 2, 3, 4, 5, 8]) {
  const where = torn < 4 ? 'its length' : torn === 4 ? 'its length and no payload' : 'its length and part of its payload';
  test(`a current file ending in ${torn} bytes of a record (${where}) is cut before appending, with a BINLOG_TORN_TAIL warning`, async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    writeFileSync(path, frame(...RECORDS).subarray(0, WHOLE + torn));
    const warnings = captureWarnings(t);
    const logger = new BinaryLogger(path, 1000);
    assert.equal(statSync(path).size, WHOLE, 'cut at open, before any write');
    assert.deepEqual(readFileSync(`${path}.corrupt-${WHOLE}`), frame(...RECORDS).subarray(WHOLE, WHOLE + torn), 'the cut bytes are kept');
    logger.write('delta');
    logger.close();
    assert.deepEqual(readFileSync(path), frame('alpha', 'beta', 'delta'));
    assert.deepEqual([...readLog(path)], ['alpha', 'beta', 'delta']);
    await tick();
    const cut = warningsFor(warnings, 'BINLOG_TORN_TAIL', path);
    assert.equal(cut.length, 1);
    assert.match(cut[0]!.message, new RegExp(`\\b${torn} bytes\\b`));
    assert.equal(warnings.filter((w) => w.code === 'BINLOG_TORN_TAIL').length, 1);
  });
}

test('a current file of whole records is not cut and gives no warning', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(path, frame(...RECORDS));
  const warnings = captureWarnings(t);
  {
    using logger = new BinaryLogger(path, 1000);
    logger.write('delta');
  }
  assert.deepEqual(readFileSync(path), frame(...RECORDS, 'delta'));
  await tick();
  assert.deepEqual(
    warnings.filter((w) => w.code?.startsWith('BINLOG_')),
    [],
  );
});

// Issue 10: a length beyond MAX_PAYLOAD_BYTES is no torn write: the file is not a log.
test('a record whose length claims 0xFFFFFFF0 bytes is refused at open without a large allocation, the file left as it was', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const bytes = Buffer.concat([frame('ok'), Buffer.from([0xff, 0xff, 0xff, 0xf0]), Buffer.from('abc')]);
  writeFileSync(path, bytes);
  const warnings = captureWarnings(t);
  const requested: number[] = [];
  const realAllocUnsafe = Buffer.allocUnsafe;
  t.mock.method(Buffer, 'allocUnsafe', (size: number) => {
    requested.push(size);
    return realAllocUnsafe(size);
  });
  assert.throws(() => new BinaryLogger(path, 1000), { name: 'CorruptLogError', code: 'ERR_LOG_CORRUPT', path, offset: 6 });
  t.mock.restoreAll();
  assert.ok(Math.max(0, ...requested) <= 1 << 20, `largest allocation ${Math.max(0, ...requested)}`);
  assert.deepEqual(readFileSync(path), bytes);
  assert.deepEqual(readdirSync(dir), ['events.bin']);
  await tick();
  assert.deepEqual(warningsFor(warnings, 'BINLOG_TORN_TAIL', path), []);
});

test('a torn tail behind a record larger than the scan chunk is found and cut', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const big = Buffer.alloc(3 * (1 << 20) + 5, 0x5a);
  const whole = frame('a', big, 'b');
  writeFileSync(path, Buffer.concat([whole, frame('torn').subarray(0, 6)]));
  const warnings = captureWarnings(t);
  {
    using logger = new BinaryLogger(path, 1 << 30);
    assert.equal(statSync(path).size, whole.length);
    logger.write('c');
  }
  assert.deepEqual(readFileSync(path), Buffer.concat([whole, frame('c')]));
  await tick();
  assert.match(warningsFor(warnings, 'BINLOG_TORN_TAIL', path)[0]?.message ?? '', /\b6 bytes\b/);
});

test('a current file that is nothing but a torn tail is cut to empty', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(path, Buffer.from([0, 0, 0]));
  const warnings = captureWarnings(t);
  {
    using logger = new BinaryLogger(path, 100);
    assert.equal(statSync(path).size, 0);
    logger.write('fresh');
  }
  assert.deepEqual(readFileSync(path), frame('fresh'));
  await tick();
  assert.equal(warningsFor(warnings, 'BINLOG_TORN_TAIL', path).length, 1);
});

for (const [label, extra] of [
  ['at', 0],
  ['above', 7],
] as const) {
  test(`a current file already ${label} maxFileSize at open is rolled over before any write`, (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'events.bin');
    writeFileSync(join(dir, 'events.0.bin'), frame('old'));
    const current = frame('x'.repeat(16 + extra)); // 20 (+7) bytes
    writeFileSync(path, current);
    const logger = new BinaryLogger(path, 20);
    assert.deepEqual(logListing(dir), [
      { name: 'events.0.bin', size: 7 },
      { name: 'events.1.bin', size: current.length },
      { name: 'events.bin', size: 0 },
    ]);
    assert.deepEqual(readFileSync(join(dir, 'events.1.bin')), current);
    logger.write('new');
    logger.close();
    assert.deepEqual(readFileSync(path), frame('new'));
    assert.deepEqual([...readLog(path)], ['old', 'x'.repeat(16 + extra), 'new']);
  });
}

test('a current file that reaches maxFileSize once its torn tail is cut is rolled over at open', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(path, Buffer.concat([frame('abcd', 'efgh'), Buffer.from([0, 0])])); // 16 whole bytes + 2 torn
  const logger = new BinaryLogger(path, 16);
  logger.close();
  assert.deepEqual(listFiles(dir), [
    { name: 'events.0.bin', size: 16 },
    { name: 'events.bin', size: 0 },
    { name: 'events.bin.corrupt-16', size: 2 },
  ]);
  assert.deepEqual(readFileSync(join(dir, 'events.0.bin')), frame('abcd', 'efgh'));
});

test('a current file below maxFileSize at open stays current', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(path, frame('x'.repeat(15))); // 19 bytes
  new BinaryLogger(path, 20).close();
  assert.deepEqual(listFiles(dir), [{ name: 'events.bin', size: 19 }]);
});

test('a rollover that crashed after creating its temp file is finished at open', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const full = frame('r1', 'r2'); // 12 bytes >= maxFileSize 10: the rollover had begun
  writeFileSync(path, full);
  writeFileSync(join(dir, '.events.bin.next'), '');
  const warnings = captureWarnings(t);
  {
    using logger = new BinaryLogger(path, 10);
    assert.deepEqual(logListing(dir), [
      { name: 'events.0.bin', size: 12 },
      { name: 'events.bin', size: 0 },
    ]);
    logger.write('r3');
  }
  assert.deepEqual(readFileSync(join(dir, 'events.0.bin')), full);
  assert.deepEqual([...readLog(path)], ['r1', 'r2', 'r3']);
  await tick();
  assert.equal(warningsFor(warnings, 'BINLOG_ROLLOVER_RECOVERED', path).length, 1);
});

test('a rollover that crashed between link and rename is finished at open without repeating a record', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const full = frame('r1', 'r2');
  writeFileSync(path, full);
  linkSync(path, join(dir, 'events.0.bin')); // step 2 done: current and backup are one file
  writeFileSync(join(dir, '.events.bin.next'), '');
  assert.deepEqual([...readLog(path)], ['r1', 'r2'], 'readers see each record once even now');
  const warnings = captureWarnings(t);
  {
    using logger = new BinaryLogger(path, 10);
    assert.deepEqual(logListing(dir), [
      { name: 'events.0.bin', size: 12 },
      { name: 'events.bin', size: 0 },
    ]);
    assert.notEqual(statSync(path).ino, statSync(join(dir, 'events.0.bin')).ino);
    logger.write('r3');
    logger.write('r4'); // rolls over into events.1.bin
  }
  assert.deepEqual(listFiles(dir), [
    { name: 'events.0.bin', size: 12 },
    { name: 'events.1.bin', size: 12 },
    { name: 'events.bin', size: 0 },
  ]);
  assert.deepEqual(readFileSync(join(dir, 'events.0.bin')), full);
  assert.deepEqual([...readLog(path)], ['r1', 'r2', 'r3', 'r4']);
  await tick();
  assert.equal(warningsFor(warnings, 'BINLOG_ROLLOVER_RECOVERED', path).length, 1);
});

test('a rollover by rename that crashed before the fresh file was in place gets a new current file at open', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(join(dir, 'events.0.bin'), frame('r1', 'r2')); // renamed away, nothing put back
  writeFileSync(join(dir, '.events.bin.next'), '');
  {
    using logger = new BinaryLogger(path, 10);
    assert.deepEqual(logListing(dir), [
      { name: 'events.0.bin', size: 12 },
      { name: 'events.bin', size: 0 },
    ]);
    logger.write('r3');
  }
  assert.equal(existsSync(join(dir, '.events.bin.next')), false);
  assert.deepEqual([...readLog(path)], ['r1', 'r2', 'r3']);
});
