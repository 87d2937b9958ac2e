/**
 * The original's vectors (test/fixtures/vectors, written by the Python
 * reference): for the same payloads and maxFileSize we leave exactly the
 * files it left, byte for byte, and we read each of its logs back as its
 * payloads (issue 2 item 3).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BinaryLogger, readLog } from '../src/index.js';
import { REPO_ROOT, listFiles, tempDir } from './helpers.js';

interface VectorFile {
  name: string;
  size: number;
  sha256: string;
}

interface VectorCase {
  case: string;
  file: string;
  maxFileSize: number;
  payloads: string[];
  files: VectorFile[];
}

const VECTORS_DIR = join(REPO_ROOT, 'test', 'fixtures', 'vectors');
const manifest = JSON.parse(readFileSync(join(VECTORS_DIR, 'manifest.json'), 'utf8')) as { cases: VectorCase[] };
const CASES = manifest.cases;

/** Name, size and sha256 of every file in `dir`, sorted by name. */
function describeDir(dir: string): VectorFile[] {
  return listFiles(dir).map(({ name, size }) => ({
    name,
    size,
    sha256: createHash('sha256').update(readFileSync(join(dir, name))).digest('hex'),
  }));
}

function byName(files: VectorFile[]): VectorFile[] {
  return [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

test('the manifest lists the nine cases of the original, each with its directory', () => {
  assert.deepEqual(
    CASES.map((c) => c.case),
    ['demo', 'spec-example', 'empty-and-special', 'unicode', 'oversize', 'max-one', 'extensionless', 'dotted-stem', 'many-backups'],
  );
  for (const c of CASES) {
    assert.deepEqual(describeDir(join(VECTORS_DIR, c.case)), byName(c.files), `fixture files of ${c.case} match the manifest`);
  }
});

for (const c of CASES) {
  test(`writing the payloads of case ${c.case} with maxFileSize ${c.maxFileSize} leaves exactly the original's files`, (t) => {
    const dir = tempDir(t);
    {
      using logger = new BinaryLogger(join(dir, c.file), c.maxFileSize);
      for (const payload of c.payloads) logger.write(payload);
    }
    assert.deepEqual(describeDir(dir), byName(c.files));
  });

  test(`reading the original's log of case ${c.case} yields exactly its payloads`, () => {
    const path = join(VECTORS_DIR, c.case, c.file);
    assert.deepEqual([...readLog(path)], c.payloads);
    assert.deepEqual(
      [...readLog(path, { encoding: 'buffer' })],
      c.payloads.map((p) => Buffer.from(p, 'utf8')),
    );
  });

  test(`opening a copy of the original's log of case ${c.case} changes no byte, and the next rollover continues its numbering`, (t) => {
    const dir = tempDir(t);
    cpSync(join(VECTORS_DIR, c.case), dir, { recursive: true });
    const before = describeDir(dir);
    const path = join(dir, c.file);
    const logger = new BinaryLogger(path, c.maxFileSize);
    // Leave out the open logger's lock file (`.<name>.lock`): not part of the log.
    assert.deepEqual(
      describeDir(dir).filter((f) => !/^\..+\.lock$/.test(f.name)),
      before,
    );
    const backupsBefore = c.files.filter((f) => f.name !== c.file).length;
    // One record at least maxFileSize bytes always rolls the current file over.
    const big = 'z'.repeat(c.maxFileSize);
    logger.write(big);
    logger.close();
    const names = readdirSync(dir).sort();
    assert.equal(names.length, before.length + 1, `${c.case}: one new backup`);
    const dot = c.file.lastIndexOf('.');
    const newBackup = dot > 0 ? `${c.file.slice(0, dot)}.${backupsBefore}${c.file.slice(dot)}` : `${c.file}.${backupsBefore}`;
    assert.ok(names.includes(newBackup), `${c.case}: ${newBackup} in ${names.join(', ')}`);
    assert.deepEqual([...readLog(path)], [...c.payloads, big]);
  });
}
