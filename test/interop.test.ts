/**
 * Interop with the original, both ways (issue 2 item 3): the Python
 * reference (test/fixtures/seed_reference.py) writes and we read; we write
 * and it reads; for the same payloads and maxFileSize both leave the same
 * files, byte for byte. Skipped where python3 is not on PATH (the Docker
 * test image has none); test/vectors.test.ts covers the same ground from
 * stored files there.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { BinaryLogger, readLog } from '../src/index.js';
import { splitName } from '../src/naming.js';
import { REPO_ROOT, filesOf, predictNamedFiles, tempDir } from './helpers.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');

const PYTHON_AVAILABLE = spawnSync('python3', ['-c', 'import sys; sys.exit(0)'], { stdio: 'ignore' }).status === 0;

/** Drives the reference through JSON on stdin, so payloads may hold newlines and NUL. */
const DRIVER = `
import json, sys
from pathlib import Path, PurePath
sys.path.insert(0, sys.argv[1])
import seed_reference as ref
req = json.loads(sys.stdin.buffer.read().decode('utf-8'))
op = req['op']
if op == 'write':
    with ref.BinaryLogger(req['path'], req['max']) as lg:
        for p in req['payloads']:
            lg.write(p)
elif op == 'read':
    lg = ref.BinaryLogger.__new__(ref.BinaryLogger)
    lg.path = Path(req['path'])
    json.dump(list(lg.read(req['path'])), sys.stdout)
elif op == 'split':
    json.dump([[PurePath(n).stem, PurePath(n).suffix] for n in req['names']], sys.stdout)
`;

function python(request: Record<string, unknown>): unknown {
  const run = spawnSync('python3', ['-c', DRIVER, FIXTURES], { input: JSON.stringify(request), encoding: 'utf8' });
  if (run.error) throw run.error;
  assert.equal(run.status, 0, `python3 failed: ${run.stderr}`);
  return run.stdout.length > 0 ? JSON.parse(run.stdout) : undefined;
}

function pythonWrite(path: string, max: number, payloads: string[]): void {
  python({ op: 'write', path, max, payloads });
}

function pythonRead(path: string): string[] {
  return python({ op: 'read', path }) as string[];
}

/** Skip the test, saying why, when there is no python3 to run the reference. */
function needPython(t: TestContext): boolean {
  if (PYTHON_AVAILABLE) return true;
  t.skip('python3 is not on PATH: interop with the Python reference is not checked here (vectors.test.ts still is)');
  return false;
}

const PAYLOADS = [
  'User login: user123',
  '',
  'Line\ntest',
  'Null\0test',
  'Tab\ttest',
  'Quote"test',
  'Backslash\\test',
  'RecordSeparator\x1etest',
  '\r\n',
  'Grüße',
  '日本語のログ',
  '🚀🔥',
  '\uFEFFBOM first',
  'x'.repeat(10_000),
  '',
  'end',
];

for (const max of [1, 7, 64, 1000, 1 << 20]) {
  test(`with maxFileSize ${max}, the original's files and ours are byte-identical and each reads the other's`, (t) => {
    if (!needPython(t)) return;
    const pyDir = join(tempDir(t), 'py');
    const tsDir = join(tempDir(t), 'ts');
    const pyPath = join(pyDir, 'events.bin');
    const tsPath = join(tsDir, 'events.bin');
    pythonWrite(pyPath, max, PAYLOADS);
    {
      using logger = new BinaryLogger(tsPath, max);
      for (const p of PAYLOADS) logger.write(p);
    }
    const ours = filesOf(tsDir);
    assert.deepEqual(ours, filesOf(pyDir), 'same names, same bytes');
    assert.deepEqual(ours, predictNamedFiles('events.bin', PAYLOADS, max), 'as the rollover rule predicts');
    assert.deepEqual([...readLog(pyPath)], PAYLOADS, 'we read the original');
    assert.deepEqual(pythonRead(tsPath), PAYLOADS, 'the original reads us');
  });
}

test('the original reads our log of twelve backups in numeric order', (t) => {
  if (!needPython(t)) return;
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const payloads = Array.from({ length: 25 }, (_, i) => `r${i}`);
  {
    using logger = new BinaryLogger(path, 8);
    for (const p of payloads) logger.write(p);
  }
  assert.equal(readdirSync(dir).length, 13);
  assert.deepEqual(pythonRead(path), payloads);
});

test('numbering continues across implementations: we resume the original log and it resumes ours', (t) => {
  if (!needPython(t)) return;
  const dir = tempDir(t);
  const path = join(dir, 'audit.v2.log');
  const first = Array.from({ length: 7 }, (_, i) => `python ${i}`);
  const second = Array.from({ length: 9 }, (_, i) => `node ${i}`);
  const third = Array.from({ length: 5 }, (_, i) => `python again ${i}`);
  const max = 30;
  pythonWrite(path, max, first);
  {
    using logger = new BinaryLogger(path, max);
    for (const p of second) logger.write(p);
  }
  pythonWrite(path, max, third);
  const all = [...first, ...second, ...third];
  assert.deepEqual(filesOf(dir), predictNamedFiles('audit.v2.log', all, max));
  assert.deepEqual([...readLog(path)], all);
  assert.deepEqual(pythonRead(path), all);
});

test('stem and extension are split exactly as Python pathlib splits them', (t) => {
  if (!needPython(t)) return;
  const names = [
    'events.bin',
    'events',
    '.hidden',
    'foo.',
    'audit.v2.log',
    'a..b',
    '...',
    '.hidden.bin',
    'x.tar.gz',
    '..b',
    'a.b.',
    'a.b.c.d',
    'ünïcode.lög',
    'with space.bin',
    '.a.',
  ];
  const expected = python({ op: 'split', names }) as Array<[string, string]>;
  assert.deepEqual(
    names.map((n) => {
      const { stem, ext } = splitName(`/logs/${n}`);
      return [stem, ext];
    }),
    expected,
  );
});
