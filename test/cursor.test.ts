/**
 * The record cursor and the rules every reader shares: where records end,
 * why a walk stops, what "possible" means, and the public zero-copy cursor.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { nodeFs, type FsOps } from '../src/fsops.js';
import { CorruptLogError, MAX_PAYLOAD_BYTES, follow, lastRecords, logStats, openCursor, readLog, verify } from '../src/index.js';
import { RecordCursor, lastWholeRecordEnd, rolloverPoint, scanWholeRecords } from '../src/read/cursor.js';
import { frame, header, tempDir } from './helpers.js';

const FILES: Array<{ name: string; bytes: Buffer; records: string[]; stop: [string, number] }> = [
  { name: 'whole records', bytes: frame('a', '', 'ccc'), records: ['a', '', 'ccc'], stop: ['clean', 16] },
  { name: 'an empty file', bytes: Buffer.alloc(0), records: [], stop: ['clean', 0] },
  { name: 'a length prefix cut short', bytes: Buffer.concat([frame('a'), Buffer.from([0, 0])]), records: ['a'], stop: ['torn-tail', 5] },
  { name: 'a payload cut short', bytes: Buffer.concat([frame('a'), header(9), Buffer.from('abc')]), records: ['a'], stop: ['torn-tail', 5] },
  { name: 'MAX_PAYLOAD_BYTES past the end', bytes: Buffer.concat([frame('a'), header(MAX_PAYLOAD_BYTES), Buffer.from('abc')]), records: ['a'], stop: ['torn-tail', 5] },
  { name: 'MAX_PAYLOAD_BYTES + 1 past the end', bytes: Buffer.concat([frame('a'), header(MAX_PAYLOAD_BYTES + 1), Buffer.from('abc')]), records: ['a'], stop: ['bad-length', 5] },
  { name: 'text', bytes: Buffer.from('hostname\n'), records: [], stop: ['bad-length', 0] },
];

for (const f of FILES) {
  test(`the cursor over ${f.name}, in memory and on disk, gives the same records and stop`, (t) => {
    const path = join(tempDir(t), 'f.bin');
    writeFileSync(path, f.bytes);
    const fd = openSync(path, 'r');
    const cursors = [new RecordCursor({ data: f.bytes }), new RecordCursor({ fs: nodeFs, fd, size: f.bytes.length })];
    for (const cursor of cursors) {
      const got: string[] = [];
      while (cursor.next()) got.push(cursor.payload()!.toString());
      assert.deepEqual(got, f.records);
      assert.deepEqual([cursor.stop?.reason, cursor.stop?.offset], f.stop);
      assert.equal(cursor.next(), false, 'stays stopped');
      cursor.close();
    }
    const fd2 = openSync(path, 'r');
    assert.deepEqual(scanWholeRecords(nodeFs, fd2, f.bytes.length), { end: f.stop[1], stop: f.stop[0] });
    closeSync(fd2);
    assert.equal(lastWholeRecordEnd(f.bytes, 0, f.bytes.length), f.stop[1]);
  });
}

test('rolloverPoint finds the end of the first record that reaches the limit', () => {
  const buf = frame('aa', 'bb', 'cc'); // records end at 6, 12, 18
  assert.equal(rolloverPoint(buf, 0, buf.length, 0, 7), 12);
  assert.equal(rolloverPoint(buf, 0, buf.length, 5, 7), 6);
  assert.equal(rolloverPoint(buf, 0, buf.length, 0, 19), -1);
});

test('a length of MAX_PAYLOAD_BYTES past the end is a torn tail; MAX_PAYLOAD_BYTES + 1 is bad-length, in every reader', (t) => {
  for (const where of ['current', 'backup'] as const) {
    for (const length of [MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES + 1]) {
      const label = `${where}, length ${length}`;
      const dir = tempDir(t);
      const path = join(dir, 'events.bin');
      const file = where === 'backup' ? join(dir, 'events.0.bin') : path;
      writeFileSync(file, Buffer.concat([frame('ok'), header(length), Buffer.from('xyz')]));
      const reason = length > MAX_PAYLOAD_BYTES ? 'bad-length' : where === 'backup' ? 'torn-tail' : undefined;
      const corrupt = { name: 'CorruptLogError', code: 'ERR_LOG_CORRUPT', path: file, offset: 6, reason };
      const got: string[] = [];
      const read = (): void => {
        for (const r of readLog(path)) got.push(r);
      };
      if (reason) assert.throws(read, corrupt, label);
      else read();
      assert.deepEqual(got, ['ok'], label);
      if (reason) assert.throws(() => lastRecords(path, 5), corrupt, label);
      else assert.deepEqual(lastRecords(path, 5), { records: [Buffer.from('ok')], end: { seq: 0, offset: 6 } }, label);
      const cursor = openCursor(path);
      assert.equal(cursor.next(), true);
      if (reason) assert.throws(() => cursor.next(), corrupt, label);
      else assert.equal(cursor.next(), false, label);
      const kind = reason ? 'length-past-end' : 'torn-tail';
      assert.deepEqual(verify(path).problems.map((p) => [p.kind, p.path, p.offset]), [[kind, file, 6]], label);
      assert.deepEqual(logStats(path).totals.records, 1, label);
    }
  }
});

test('a record longer than MAX_PAYLOAD_BYTES that fits in its file is a whole record', (t) => {
  // A sparse file: the payload is never read, only skipped by its length.
  const path = join(tempDir(t), 'events.bin');
  const length = MAX_PAYLOAD_BYTES + 1;
  writeFileSync(path, Buffer.concat([frame('a'), header(length)]));
  const fd = openSync(path, 'r+');
  nodeFs.ftruncateSync(fd, 5 + 4 + length);
  assert.deepEqual(scanWholeRecords(nodeFs, fd, 5 + 4 + length), { end: 5 + 4 + length, stop: 'clean' });
  closeSync(fd);
  using cursor = openCursor(path);
  const lengths: number[] = [];
  while (cursor.next()) lengths.push(cursor.length);
  assert.deepEqual(lengths, [1, length]);
});

test('a text file is not a log: readers throw bad-length at byte 0', (t) => {
  const path = join(tempDir(t), 'hostname');
  writeFileSync(path, 'my-host\n');
  assert.throws(() => [...readLog(path)], { code: 'ERR_LOG_CORRUPT', path, offset: 0, reason: 'bad-length' });
  assert.throws(() => lastRecords(path, 1), { code: 'ERR_LOG_CORRUPT', path, offset: 0, reason: 'bad-length' });
  assert.deepEqual(verify(path).problems.map((p) => [p.kind, p.offset]), [['length-past-end', 0]]);
});

test('every reader throws ENOENT naming the path when there is neither a current file nor a backup', async (t) => {
  const dir = tempDir(t);
  for (const path of [join(dir, 'nope.bin'), join(dir, 'no-dir', 'events.bin')]) {
    const enoent = { code: 'ENOENT', syscall: 'open', path };
    assert.throws(() => readLog(path), enoent);
    assert.throws(() => follow(path), enoent);
    assert.throws(() => lastRecords(path, 1), enoent);
    assert.throws(() => verify(path), enoent);
    assert.throws(() => logStats(path), enoent);
    assert.throws(() => openCursor(path), enoent);
  }
  // Backups alone are a log.
  writeFileSync(join(dir, 'events.0.bin'), frame('old'));
  assert.deepEqual([...readLog(join(dir, 'events.bin'))], ['old']);
});

test('openCursor hands each record as a view into one reused buffer, with positions', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(join(dir, 'events.0.bin'), frame('a', 'bb'));
  writeFileSync(path, Buffer.concat([frame('ccc'), Buffer.from([0, 0])]));
  const seen: Array<[string, number, number, number]> = [];
  const buffers = new Set<ArrayBufferLike>();
  {
    using cursor = openCursor(path);
    while (cursor.next()) {
      const view = cursor.payload();
      buffers.add(view.buffer);
      seen.push([view.toString(), cursor.length, cursor.position.seq, cursor.position.offset]);
    }
  }
  assert.deepEqual(seen, [
    ['a', 1, 0, 0],
    ['bb', 2, 0, 5],
    ['ccc', 3, 1, 0],
  ]);
  // One window per file (small ones may share Node's pool), none per record.
  assert.ok(buffers.size <= 2, `${buffers.size} buffers for 3 records`);
  using again = openCursor(path, { from: { seq: 0, offset: 5 } });
  assert.equal(again.next(), true);
  assert.deepEqual([again.payload().toString(), again.nextPosition], ['bb', { seq: 0, offset: 11 }]);
  assert.throws(() => openCursor(path, { from: { seq: -1, offset: 0 } as never }), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('a payload never asked for is skipped by its length, never read', (t) => {
  const path = join(tempDir(t), 'f.bin');
  const big = Buffer.alloc(3 << 20, 0x61); // three windows' worth
  const bytes = Buffer.concat([frame(big), frame('tail')]);
  writeFileSync(path, bytes);
  let read = 0;
  const fs: FsOps = {
    ...nodeFs,
    readSync: (fd, buf, offset, length, position) => {
      const n = nodeFs.readSync(fd, buf, offset, length, position);
      read += n;
      return n;
    },
  };
  const cursor = new RecordCursor({ fs, fd: openSync(path, 'r'), size: bytes.length });
  assert.equal(cursor.next(), true);
  assert.equal(cursor.length, big.length);
  assert.equal(cursor.next(), true);
  assert.deepEqual(cursor.payload(), Buffer.from('tail'));
  assert.equal(cursor.next(), false);
  cursor.close();
  assert.ok(read <= (1 << 20) + 8 + 8, `read ${read} bytes of ${bytes.length}`);
});

test('payloadChunks streams a payload larger than the window in window-sized views; seek steps back', (t) => {
  const path = join(tempDir(t), 'f.bin');
  const big = Buffer.alloc((1 << 20) + 100);
  for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
  const bytes = frame('x', big);
  writeFileSync(path, bytes);
  const cursor = new RecordCursor({ fs: nodeFs, fd: openSync(path, 'r'), size: bytes.length });
  assert.equal(cursor.next(), true);
  assert.equal(cursor.next(), true);
  const pieces = [...cursor.payloadChunks()].map((p) => Buffer.from(p));
  assert.deepEqual(pieces.map((p) => p.length), [1 << 20, 100]);
  assert.deepEqual(Buffer.concat(pieces), big);
  assert.ok(cursor.buf.length <= 1 << 20, 'the window never grew');
  cursor.seek(0);
  assert.equal(cursor.next(), true);
  assert.deepEqual(cursor.payload(), Buffer.from('x'));
  cursor.close();
});

test('a compressed backup that does not decompress is bad-gzip at offset 0, after the records before it', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  writeFileSync(join(dir, 'events.0.bin'), frame('zero'));
  writeFileSync(join(dir, 'events.1.bin.gz'), 'not gzip at all, but long enough');
  writeFileSync(path, frame('current'));
  const got: string[] = [];
  const gz = join(dir, 'events.1.bin.gz');
  assert.throws(
    () => {
      for (const r of readLog(path)) got.push(r);
    },
    { code: 'ERR_LOG_CORRUPT', reason: 'bad-gzip', path: gz, offset: 0 },
  );
  assert.deepEqual(got, ['zero']);
  assert.throws(() => lastRecords(path, 2), { reason: 'bad-gzip', path: gz });
});

test('CorruptLogError carries path, offset, code and a machine-readable reason', () => {
  const err = new CorruptLogError('/x/events.0.bin', 12, 'bad-gzip');
  assert.deepEqual([err.name, err.code, err.path, err.offset, err.reason], ['CorruptLogError', 'ERR_LOG_CORRUPT', '/x/events.0.bin', 12, 'bad-gzip']);
  assert.match(err.message, /events\.0\.bin" at byte 12: not a readable gzip file/);
});
