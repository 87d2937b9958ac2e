/**
 * Issue 10, the writer's side: a newcomer's mistakes get messages that say
 * what to do; a file that is not a log is refused at open and left as it
 * was; logger.read() takes readLog()'s options; oversized payloads are
 * refused against MAX_PAYLOAD_BYTES.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { BinaryLogger, CorruptLogError, MAX_PAYLOAD_BYTES, readLog, type LogEntry } from '../src/index.js';
import { captureWarnings, frame, tempDir } from './helpers.js';

/** Every file of `dir` (names and bytes), to compare before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) out[name] = readFileSync(join(dir, name)).toString('hex');
  return out;
}

/** A 4-byte big-endian header declaring `length`. */
function header(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(length);
  return b;
}

// -------------------------------------------------------------- messages

for (const [title, make] of [
  ['no options', (path: string) => new (BinaryLogger as unknown as new (p: string) => BinaryLogger)(path)],
  ['options without maxFileSize', (path: string) => new BinaryLogger(path, {} as never)],
] as const) {
  test(`a missing maxFileSize (${title}) says it is required, with an example, and creates nothing`, (t) => {
    const dir = tempDir(t);
    assert.throws(() => make(join(dir, 'events.bin')), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message:
        'The "maxFileSize" option is required: the size in bytes at which the current file rolls over, e.g. { maxFileSize: 10 * 1024 * 1024 }',
    });
    assert.deepEqual(readdirSync(dir), []);
  });
}

test('ERR_LOGGER_PATH_IN_USE names the holding process and thread in words and says how to share the log', (t) => {
  const path = join(tempDir(t), 'events.bin');
  using first = new BinaryLogger(path, 100);
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  assert.throws(() => new BinaryLogger(path, 100), {
    name: 'Error',
    code: 'ERR_LOGGER_PATH_IN_USE',
    message:
      `Another BinaryLogger has the log "${path}" open (process ${process.pid}, thread ${tid}); close it first, ` +
      'share it between threads with share()/attach(), or open it with { multiProcess: true } in every process',
  });
  first.write('still mine');
  assert.deepEqual([...first.read()], ['still mine']);
});

// ------------------------------------------------------ impossible sizes

test('write() refuses a payload over MAX_PAYLOAD_BYTES with ERR_OUT_OF_RANGE, keeping what was staged', (t) => {
  const path = join(tempDir(t), 'events.bin');
  using logger = new BinaryLogger(path, { maxFileSize: 1000, durability: 'buffered', flushInterval: 0 });
  logger.write('staged');
  // A Uint8Array that says it holds one byte too many, without allocating 256 MiB.
  const huge = Object.create(Uint8Array.prototype, { byteLength: { value: MAX_PAYLOAD_BYTES + 1 } }) as Uint8Array;
  assert.throws(() => logger.write(huge), {
    name: 'RangeError',
    code: 'ERR_OUT_OF_RANGE',
    message: `The value of "payload.byteLength" is out of range. It must be <= ${MAX_PAYLOAD_BYTES}. Received ${MAX_PAYLOAD_BYTES + 1}`,
  });
  assert.equal(logger.pendingBytes, 4 + 6, 'the staged record is neither written nor dropped');
  assert.equal(readFileSync(path).length, 0);
  logger.flush();
  assert.deepEqual([...readLog(path)], ['staged']);
});

test('opening a text file as a log throws ERR_LOG_CORRUPT and changes nothing on disk', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'notes.txt');
  writeFileSync(path, 'hello world\n');
  const before = snapshot(dir);
  const warnings = captureWarnings(t);
  assert.throws(
    () => new BinaryLogger(path, 1000),
    (err: unknown) => {
      assert.ok(err instanceof CorruptLogError);
      assert.equal(err.code, 'ERR_LOG_CORRUPT');
      assert.equal(err.path, path);
      assert.equal(err.offset, 0);
      assert.equal(
        err.message,
        `Corrupt log file "${path}" at byte 0: a record header declares more than the largest record a writer can produce ` +
          `(${MAX_PAYLOAD_BYTES} bytes) and runs past the end of the file: this is not a log, or its length is corrupt; the writer leaves it as it is`,
      );
      return true;
    },
  );
  assert.deepEqual(snapshot(dir), before, 'same files, same bytes: no side file, no lock file, no truncation');
  assert.deepEqual(warnings, []);
  // The lock was released: a good log at the same place opens.
  writeFileSync(path, frame('a'));
  using logger = new BinaryLogger(path, 1000);
  assert.deepEqual([...logger.read()], ['a']);
});

test('a length of MAX_PAYLOAD_BYTES + 1 running past the end after whole records is refused, the file left as it was', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(path, Buffer.concat([frame('one', 'two'), header(MAX_PAYLOAD_BYTES + 1), Buffer.from('xyz')]));
  const before = snapshot(dir);
  assert.throws(() => new BinaryLogger(path, 1000), { name: 'CorruptLogError', code: 'ERR_LOG_CORRUPT', offset: 14, path });
  assert.deepEqual(snapshot(dir), before);
});

test('a length of exactly MAX_PAYLOAD_BYTES running past the end is a torn tail: cut, kept aside, warned about', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const tail = Buffer.concat([header(MAX_PAYLOAD_BYTES), Buffer.from('xyz')]);
  writeFileSync(path, Buffer.concat([frame('one', 'two'), tail]));
  const warnings = captureWarnings(t);
  using logger = new BinaryLogger(path, 1000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(readFileSync(path), frame('one', 'two'));
  assert.deepEqual(readFileSync(`${path}.corrupt-14`), tail);
  assert.deepEqual(
    warnings.map((w) => [w.code, w.message]),
    [['BINLOG_TORN_TAIL', `Cut a torn tail of 7 bytes off "${path}" at byte 14; the bytes are kept in "${path}.corrupt-14"`]],
  );
  logger.write('three');
  assert.deepEqual([...logger.read()], ['one', 'two', 'three']);
});

// ------------------------------------------------------------------ read

test('logger.read() takes readLog options alone, a path alone, or a path with options', (t) => {
  const dir = tempDir(t);
  const mine = join(dir, 'mine.bin');
  const other = join(dir, 'other.bin');
  using logger = new BinaryLogger(mine, { maxFileSize: 1000, durability: 'buffered' });
  logger.write(Buffer.from([0, 1, 255]));
  logger.write('text');
  using theirs = new BinaryLogger(other, 1000);
  theirs.write(Buffer.from([0xc3]));

  const bytes: Buffer[] = [...logger.read({ encoding: 'buffer' })];
  assert.deepEqual(bytes, [Buffer.from([0, 1, 255]), Buffer.from('text')]);
  const strings: string[] = [...logger.read(other)];
  assert.deepEqual(strings, ['\ufffd']);
  const raw: Buffer[] = [...logger.read(pathToFileURL(other), { encoding: 'buffer' })];
  assert.deepEqual(raw, [Buffer.from([0xc3])]);
  const entries: Array<LogEntry<Buffer>> = [...logger.read(undefined, { encoding: 'buffer', withPositions: true })];
  assert.deepEqual(
    entries.map((e) => [e.payload, e.position.offset]),
    [
      [Buffer.from([0, 1, 255]), 0],
      [Buffer.from('text'), 7],
    ],
  );
  const text: string[] = [...logger.read({ encoding: 'utf8' })];
  assert.deepEqual(text, ['\u0000\u0001\ufffd', 'text']);
  assert.throws(() => logger.read({ encoding: 'hex' as never }), { code: 'ERR_INVALID_ARG_VALUE' });
});

test('events and read() results are typed: tsc rejects wrong listener and element types', (t) => {
  using logger = new BinaryLogger(join(tempDir(t), 'events.bin'), 1000);
  const rotate = (backup: string): void => void backup;
  logger.on('rotate', rotate);
  // @ts-expect-error a rotate listener gets the backup's path, a string
  logger.on('rotate', (n: number) => void n);
  // @ts-expect-error there is no such event
  logger.on('rotated', rotate);
  // @ts-expect-error read({ encoding: 'buffer' }) yields Buffers, not strings
  const wrong: string[] = [...logger.read({ encoding: 'buffer' })];
  assert.deepEqual(wrong, []);
  assert.equal(logger.listenerCount('rotate'), 2);
});
