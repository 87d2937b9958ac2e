/**
 * Property tests (issue 2 item 7): any sequence of payloads and any
 * maxFileSize round-trip through write/read and leave exactly the files the
 * rollover rule predicts (helpers.ts predictFiles), byte for byte; backup
 * names follow a small regex model.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { BinaryLogger, readLog } from '../src/index.js';
import { backupPath, parseBackupSeq, splitName } from '../src/naming.js';
import { predictFiles, tempDir } from './helpers.js';

type Payload = string | Uint8Array;

const KIB_64 = 64 * 1024;

/** Bytes 0..n with a pattern, so that a misplaced chunk shows. */
function patterned(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed) & 0xff;
  return b;
}

/** Payloads from empty to 64 KiB: strings with NUL, newline and emoji, and raw bytes. */
const payloadArb: fc.Arbitrary<Payload> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.constantFrom('', '\0', '\n', '😀', 'a\0b\nc😀', '\r\n', 'é', '\uFEFF', '\u{10FFFF}') },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.tuple(fc.nat({ max: KIB_64 }), fc.nat({ max: 255 })).map(([n, seed]) => patterned(n, seed)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.nat({ max: KIB_64 / 4 }), fc.constantFrom('😀', 'x', 'é', '\0', '\n', '日'))
      .map(([n, c]) => c.repeat(n)), // at most 64 KiB of UTF-8
  },
);

/** maxFileSize: mostly small, so that rollovers are frequent, sometimes large. */
const maxFileSizeArb = fc.oneof(
  fc.integer({ min: 1, max: 64 }),
  fc.integer({ min: 1, max: 4096 }),
  fc.integer({ min: 1, max: 300_000 }),
);

const payloadsArb = fc.array(payloadArb, { maxLength: 30 });

function bytesOf(p: Payload): Buffer {
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p);
}

/** Assert `dir` holds exactly the predicted files (backups 0..n-1, then the current file), and the log reads back as `payloads`. */
function checkFiles(dir: string, path: string, payloads: Payload[], maxFileSize: number): void {
  const predicted = predictFiles(payloads, maxFileSize);
  const backups = predicted.length - 1;
  const names = predicted.map((_, seq) => (seq < backups ? splitName(backupPath(path, seq)).base : 'events.bin'));
  assert.deepEqual(readdirSync(dir).sort(), [...names].sort());
  names.forEach((name, i) => {
    assert.ok(readFileSync(join(dir, name)).equals(predicted[i]!), `${name} differs from the prediction`);
  });
  const raw = [...readLog(path, { encoding: 'buffer' })];
  assert.equal(raw.length, payloads.length);
  raw.forEach((b, i) => assert.ok(b.equals(bytesOf(payloads[i]!)), `record ${i}`));
  assert.deepEqual(
    [...readLog(path)],
    payloads.map((p) => (typeof p === 'string' ? p : Buffer.from(p).toString('utf8'))),
  );
}

test('any payloads and any maxFileSize round-trip and leave exactly the predicted files', (t) => {
  const root = tempDir(t);
  fc.assert(
    fc.property(payloadsArb, maxFileSizeArb, (payloads, maxFileSize) => {
      const dir = mkdtempSync(join(root, 'run-'));
      try {
        const path = join(dir, 'events.bin');
        {
          using logger = new BinaryLogger(path, maxFileSize);
          for (const p of payloads) logger.write(p);
          assert.deepEqual([...logger.read()].length, payloads.length);
        }
        checkFiles(dir, path, payloads, maxFileSize);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
    { numRuns: 100 },
  );
});

test('closing and reopening between writes, in sync or buffered durability, leaves the same predicted files', (t) => {
  const root = tempDir(t);
  fc.assert(
    fc.property(
      payloadsArb,
      maxFileSizeArb,
      fc.constantFrom<'sync' | 'buffered'>('sync', 'buffered'),
      fc.integer({ min: 64, max: 8192 }),
      fc.array(fc.nat({ max: 30 }), { maxLength: 4 }),
      (payloads, maxFileSize, durability, bufferSize, reopenAt) => {
        const dir = mkdtempSync(join(root, 'run-'));
        try {
          const path = join(dir, 'events.bin');
          const open = (): BinaryLogger => new BinaryLogger(path, { maxFileSize, durability, bufferSize, flushInterval: 0 });
          let logger = open();
          try {
            payloads.forEach((p, i) => {
              if (reopenAt.includes(i)) {
                logger.close();
                logger = open();
              }
              logger.write(p);
            });
          } finally {
            logger.close();
          }
          checkFiles(dir, path, payloads, maxFileSize);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    ),
    { numRuns: 60 },
  );
});

/** Log names made of the characters that matter to the split: dots, digits, letters. */
const nameArb = fc
  .string({ unit: fc.constantFrom('e', 'v', '.', '0', '1', '9', 'b', ' '), minLength: 1, maxLength: 10 })
  .filter((n) => n !== '.' && n !== '..');

test('backupPath and parseBackupSeq agree for any log name and any seq', () => {
  fc.assert(
    fc.property(nameArb, fc.maxSafeNat(), (name, seq) => {
      const log = `/logs/${name}`;
      const backup = splitName(backupPath(log, seq)).base;
      assert.equal(parseBackupSeq(backup, splitName(log)), seq, backup);
      assert.notEqual(backup, name);
    }),
    { numRuns: 2000 },
  );
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('parseBackupSeq takes a name exactly when it is <stem>.<canonical decimal><ext>', () => {
  fc.assert(
    fc.property(nameArb, nameArb, (log, candidate) => {
      const parts = splitName(`/logs/${log}`);
      const model = new RegExp(`^${escapeRegExp(parts.stem)}\\.(0|[1-9][0-9]*)${escapeRegExp(parts.ext)}$`).exec(candidate);
      const expected = model && Number.isSafeInteger(Number(model[1])) ? Number(model[1]) : -1;
      assert.equal(parseBackupSeq(candidate, parts), expected, `${candidate} of ${log}`);
    }),
    { numRuns: 5000 },
  );
});
