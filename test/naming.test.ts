/**
 * Backup names (issue 2 item 3, docs/FORMAT.md "Backup names"): stem and
 * extension split as Python's pathlib does, `<stem>.<seq><ext>`, and only
 * canonical decimal seqs count.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  backupPath,
  listBackups,
  nextSeq,
  parseBackupSeq,
  rolloverTempPath,
  splitName,
  type NameParts,
} from '../src/naming.js';
import { tempDir } from './helpers.js';

/** Expected pathlib stem and suffix, checked against Python 3.11's pathlib.PurePath. */
const PATHLIB_SPLITS: Array<[name: string, stem: string, ext: string]> = [
  ['events.bin', 'events', '.bin'],
  ['events', 'events', ''],
  ['.hidden', '.hidden', ''],
  ['foo.', 'foo.', ''],
  ['audit.v2.log', 'audit.v2', '.log'],
  ['a..b', 'a.', '.b'],
  ['...', '...', ''],
  ['.hidden.bin', '.hidden', '.bin'],
  ['x.tar.gz', 'x.tar', '.gz'],
  ['..b', '.', '.b'],
  ['a.b.', 'a.b.', ''],
];

for (const [name, stem, ext] of PATHLIB_SPLITS) {
  test(`splitName splits ${JSON.stringify(name)} into stem ${JSON.stringify(stem)} and extension ${JSON.stringify(ext)} as pathlib does`, () => {
    const parts = splitName(join('/var', 'log', name));
    assert.deepEqual(parts, { dir: join('/var', 'log'), base: name, stem, ext });
  });
}

test('splitName keeps the directory of a relative path as given', () => {
  assert.deepEqual(splitName('logs/events.bin'), { dir: 'logs', base: 'events.bin', stem: 'events', ext: '.bin' });
  assert.deepEqual(splitName('events.bin'), { dir: '.', base: 'events.bin', stem: 'events', ext: '.bin' });
});

test('backupPath puts the seq between stem and extension, beside the current file', () => {
  assert.equal(backupPath('logs/events.bin', 0), join('logs', 'events.0.bin'));
  assert.equal(backupPath('logs/events.bin', 1), join('logs', 'events.1.bin'));
  assert.equal(backupPath('logs/events.bin', 10), join('logs', 'events.10.bin'));
  assert.equal(backupPath('/a/b/events', 0), '/a/b/events.0');
  assert.equal(backupPath('/a/audit.v2.log', 3), '/a/audit.v2.3.log');
  assert.equal(backupPath('/a/.hidden', 2), '/a/.hidden.2');
  assert.equal(backupPath('/a/foo.', 5), '/a/foo..5');
  assert.equal(backupPath('/a/x.tar.gz', 7), '/a/x.tar.7.gz');
});

/** The parts of the log `/logs/events.bin`. */
const EVENTS_BIN: NameParts = splitName('/logs/events.bin');

test('parseBackupSeq reads the seq of each valid backup name', () => {
  const valid: Array<[string, number]> = [
    ['events.0.bin', 0],
    ['events.1.bin', 1],
    ['events.9.bin', 9],
    ['events.10.bin', 10],
    ['events.123456.bin', 123456],
    ['events.9007199254740991.bin', Number.MAX_SAFE_INTEGER],
  ];
  for (const [name, seq] of valid) assert.equal(parseBackupSeq(name, EVENTS_BIN), seq, name);
});

test('parseBackupSeq refuses every name that is not a canonical backup name', () => {
  const invalid = [
    'events.bin', // the current file itself
    'events.x.bin',
    'events.01.bin', // leading zero: the original took this as 1, we do not
    'events.00.bin',
    'events..bin',
    'events.-1.bin',
    'events.+1.bin',
    'events.1e3.bin',
    'events.1.5.bin',
    'events. 1.bin',
    'events.1 .bin',
    'events.0x1.bin',
    'events.\u0661.bin', // ARABIC-INDIC DIGIT ONE
    'events.\uFF11.bin', // FULLWIDTH DIGIT ONE
    'events.bin.bak',
    'events.0.bin.bak',
    'events.0.bin.gz', // a compressed backup is not a plain backup name
    'events.0.log',
    'events.0.binx',
    'events.0',
    'Events.0.bin',
    'other.0.bin',
    'xevents.0.bin',
    'events0.bin',
    '.events.bin.next',
    'events.9007199254740992.bin', // beyond Number.MAX_SAFE_INTEGER
    'events.12345678901234567.bin',
    '',
  ];
  for (const name of invalid) assert.equal(parseBackupSeq(name, EVENTS_BIN), -1, JSON.stringify(name));
});

for (const { title, log, seqs } of [
  {
    title: 'a log without extension takes events.<seq> only',
    log: '/logs/events',
    seqs: { 'events.0': 0, 'events.12': 12, 'events.0.bin': -1, 'events.bin': -1, 'events.': -1, events: -1, 'events.01': -1 },
  },
  {
    title: 'a dotted stem keeps the whole stem',
    log: '/logs/audit.v2.log',
    seqs: { 'audit.v2.0.log': 0, 'audit.v2.11.log': 11, 'audit.0.log': -1, 'audit.v2.log': -1, 'audit.v2.0.v2.log': -1 },
  },
]) {
  test(`parseBackupSeq of ${title}`, () => {
    const parts = splitName(log);
    for (const [name, seq] of Object.entries(seqs)) assert.equal(parseBackupSeq(name, parts), seq, name);
  });
}

test('parseBackupSeq takes back every name backupPath makes', () => {
  for (const log of ['/l/events.bin', '/l/events', '/l/audit.v2.log', '/l/.hidden', '/l/foo.', '/l/a..b']) {
    const parts = splitName(log);
    for (const seq of [0, 1, 9, 10, 11, 99, 100, 2 ** 31, Number.MAX_SAFE_INTEGER]) {
      const name = splitName(backupPath(log, seq)).base;
      assert.equal(parseBackupSeq(name, parts), seq, `${log} ${name}`);
    }
  }
});

test('the rollover temp name is a dot-name that never parses as a backup', () => {
  assert.equal(rolloverTempPath('/logs/events.bin'), '/logs/.events.bin.next');
  assert.equal(rolloverTempPath('/logs/events'), '/logs/.events.next');
  for (const log of ['/logs/events.bin', '/logs/events', '/logs/.hidden']) {
    assert.equal(parseBackupSeq(splitName(rolloverTempPath(log)).base, splitName(log)), -1, log);
  }
});

test('listBackups lists backups in numeric order of seq, 10 after 9, and skips look-alikes', (t) => {
  const dir = tempDir(t);
  const names = [
    'events.10.bin',
    'events.2.bin',
    'events.9.bin',
    'events.0.bin',
    'events.1.bin',
    'events.11.bin',
    'events.100.bin',
    'events.x.bin',
    'events.01.bin',
    'events.bin.bak',
    'other.0.bin',
    'events.bin',
    '.events.bin.next',
  ];
  for (const name of names) writeFileSync(join(dir, name), '');
  const backups = listBackups(join(dir, 'events.bin'));
  assert.deepEqual(
    backups.map((b) => [b.seq, b.path]),
    [0, 1, 2, 9, 10, 11, 100].map((seq) => [seq, join(dir, `events.${seq}.bin`)]),
  );
  assert.equal(nextSeq(backups), 101);
});

test('listBackups of a directory that does not exist is empty, and the next seq is 0', (t) => {
  const dir = tempDir(t);
  const backups = listBackups(join(dir, 'missing', 'events.bin'));
  assert.deepEqual(backups, []);
  assert.equal(nextSeq(backups), 0);
});

test('listBackups reads through gaps in the numbering', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'logs'));
  for (const seq of [8, 0, 7]) writeFileSync(join(dir, 'logs', `events.${seq}.bin`), '');
  const backups = listBackups(join(dir, 'logs', 'events.bin'));
  assert.deepEqual(
    backups.map((b) => b.seq),
    [0, 7, 8],
  );
  assert.equal(nextSeq(backups), 9);
});
