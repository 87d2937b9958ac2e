/**
 * docs/FORMAT.md must not drift from the code: its hex dump decodes to the
 * records it lists, the writer produces exactly those bytes, and its
 * rollover example is what the writer leaves.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BinaryLogger, readLog } from '../src/index.js';
import { REPO_ROOT, frame, listFiles, tempDir } from './helpers.js';

const DOC = readFileSync(join(REPO_ROOT, 'docs', 'FORMAT.md'), 'utf8');

/** The lines of the fenced block that follows `<!-- example:<name> -->`. */
function exampleBlock(name: string): string[] {
  const match = new RegExp(`<!-- example:${name} -->\\n\`\`\`text\\n([\\s\\S]*?)\\n\`\`\``).exec(DOC);
  assert.ok(match, `docs/FORMAT.md has an example:${name} block`);
  return match[1]!.split('\n');
}

/** Parse `hexdump -C` output, checking its offsets and its character column. */
function parseHexdump(lines: string[]): Buffer {
  const bytes: number[] = [];
  const last = lines[lines.length - 1]!;
  for (const line of lines.slice(0, -1)) {
    const m = /^([0-9a-f]{8})  ((?:[0-9a-f]{2} {1,2}| {3,4}){1,16})\s*\|([^|]*)\|$/.exec(line);
    assert.ok(m, `a hexdump line: ${JSON.stringify(line)}`);
    assert.equal(parseInt(m[1]!, 16), bytes.length, `offset of ${JSON.stringify(line)}`);
    const row = m[2]!.trim().split(/\s+/).map((h) => parseInt(h, 16));
    assert.ok(row.length >= 1 && row.length <= 16);
    const shown = row.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    assert.equal(m[3], shown, `character column of ${JSON.stringify(line)}`);
    bytes.push(...row);
  }
  assert.match(last, /^[0-9a-f]{8}$/, 'the dump ends with its length');
  assert.equal(parseInt(last, 16), bytes.length);
  return Buffer.from(bytes);
}

interface ListedRecord {
  offset: number;
  length: number;
  payload: string;
}

function parseRecords(lines: string[]): ListedRecord[] {
  assert.match(lines[0]!, /^offset\s+length\s+payload$/);
  return lines.slice(1).map((line) => {
    const m = /^(\d+)\s+(\d+)\s+(".*")$/.exec(line);
    assert.ok(m, `a record line: ${JSON.stringify(line)}`);
    return { offset: Number(m[1]), length: Number(m[2]), payload: JSON.parse(m[3]!) as string };
  });
}

/** Decode records by hand, by the grammar, independently of src/. */
function decode(bytes: Buffer): ListedRecord[] {
  const out: ListedRecord[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    assert.ok(bytes.length - pos >= 4, `a whole length at ${pos}`);
    const length = bytes.readUInt32BE(pos);
    assert.ok(pos + 4 + length <= bytes.length, `a whole payload at ${pos}`);
    out.push({ offset: pos, length, payload: bytes.toString('utf8', pos + 4, pos + 4 + length) });
    pos += 4 + length;
  }
  return out;
}

test('the hex dump in FORMAT.md decodes to the records it lists', () => {
  const bytes = parseHexdump(exampleBlock('hexdump'));
  const listed = parseRecords(exampleBlock('records'));
  assert.equal(bytes.length, 28);
  assert.equal(listed.length, 4);
  assert.deepEqual(decode(bytes), listed);
  assert.ok(
    listed.some((r) => r.length === 0),
    'the example shows an empty record',
  );
  assert.ok(
    listed.some((r) => r.length > r.payload.length),
    'the example shows that lengths count bytes, not characters',
  );
});

test('the hex dump in FORMAT.md is what readLog reads and what a logger writes', (t) => {
  const dir = tempDir(t);
  const bytes = parseHexdump(exampleBlock('hexdump'));
  const payloads = parseRecords(exampleBlock('records')).map((r) => r.payload);
  const given = join(dir, 'given.bin');
  writeFileSync(given, bytes);
  assert.deepEqual([...readLog(given)], payloads);
  const written = join(dir, 'written.bin');
  {
    using logger = new BinaryLogger(written, 1000);
    for (const p of payloads) logger.write(p);
  }
  assert.deepEqual(readFileSync(written), bytes);
});

test('the rollover example in FORMAT.md is what the writer leaves after ten 50-character writes with maxFileSize 100', (t) => {
  const listed = exampleBlock('rollover').map((line) => {
    const m = /^(\S+)\s+(\d+) bytes(?:\s+records (\d+)-(\d+))?$/.exec(line);
    assert.ok(m, `a file line: ${JSON.stringify(line)}`);
    return { name: m[1]!, size: Number(m[2]), first: m[3] ? Number(m[3]) : undefined, last: m[4] ? Number(m[4]) : undefined };
  });
  assert.ok(DOC.includes('ten writes of a 50-character\npayload'), 'the doc states the example');
  assert.ok(DOC.includes('maxFileSize 100'), 'the doc states maxFileSize');
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const payloads = Array.from({ length: 10 }, (_, i) => `record ${i + 1}`.padEnd(50, '-'));
  {
    using logger = new BinaryLogger(path, 100);
    for (const p of payloads) logger.write(p);
  }
  assert.deepEqual(
    listFiles(dir),
    listed.map(({ name, size }) => ({ name, size })),
  );
  for (const { name, first, last } of listed) {
    const expected = first === undefined ? [] : payloads.slice(first - 1, last);
    assert.deepEqual(readFileSync(join(dir, name)), frame(...expected), name);
  }
  assert.deepEqual([...readLog(path)], payloads);
});
