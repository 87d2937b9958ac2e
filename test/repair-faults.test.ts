/**
 * repair() never deletes a byte without keeping a copy: with any one write,
 * link, rename, truncate, unlink or fsync failing at any step, every byte of
 * the input is still in the log or in a side file, and a rerun finishes the
 * job. Table-driven over the failing call and the step index.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { nodeFs, type FsOps } from '../src/fsops.js';
import { repair, repairWith } from '../src/repair.js';
import { verify } from '../src/verify.js';
import { failingFs, frame, tempDir } from './helpers.js';

const OLD = frame('a', 'bb');
const BAD_BACKUP = Buffer.concat([OLD, frame('ccc').subarray(0, 5)]); // torn at 11
const CURRENT = Buffer.concat([frame('x'), frame('yyyy').subarray(0, 6)]); // torn at 5
const TEMP = Buffer.from('stray bytes');

/** A log with three things to set aside: a corrupt backup, a torn current file, a temp file holding bytes. */
function makeLog(dir: string): { path: string; inputs: Map<string, { bytes: Buffer; keep: number }> } {
  mkdirSync(dir);
  const path = join(dir, 'events.bin');
  writeFileSync(join(dir, 'events.0.bin'), BAD_BACKUP);
  writeFileSync(join(dir, 'events.1.bin'), frame('good'));
  writeFileSync(path, CURRENT);
  writeFileSync(join(dir, '.events.bin.next'), TEMP);
  return {
    path,
    inputs: new Map([
      ['events.0.bin', { bytes: BAD_BACKUP, keep: 11 }],
      ['events.bin', { bytes: CURRENT, keep: 5 }],
      ['.events.bin.next', { bytes: TEMP, keep: 0 }],
    ]),
  };
}

/** Every byte of each input is in its file, or its file keeps the whole records and a side file holds the rest. */
function assertNoByteLost(dir: string, inputs: Map<string, { bytes: Buffer; keep: number }>, label: string): void {
  const names = readdirSync(dir);
  for (const [name, { bytes, keep }] of inputs) {
    const rest = bytes.subarray(keep);
    const visible = name.replace(/^\.+/, '');
    const sides = names.filter((n) => n.startsWith(`${visible}.corrupt-${keep}`)).map((n) => readFileSync(join(dir, n)));
    const inSide = sides.some((b) => b.equals(rest));
    if (!names.includes(name)) {
      assert.ok(inSide, `${label}: ${name} is gone and no side file holds its ${rest.length} bytes`);
      continue;
    }
    const now = readFileSync(join(dir, name));
    if (now.equals(bytes)) continue;
    assert.deepEqual(now, bytes.subarray(0, keep), `${label}: ${name} holds its whole records`);
    assert.ok(inSide, `${label}: ${name} was cut and a side file holds its ${rest.length} bytes`);
  }
}

const METHODS: Array<keyof FsOps> = ['writeSync', 'linkSync', 'renameSync', 'ftruncateSync', 'fsyncSync', 'unlinkSync', 'openSync', 'closeSync'];

test('a clean repair sets all three aside and verifies ok', (t) => {
  const dir = join(tempDir(t), 'log');
  const { path, inputs } = makeLog(dir);
  const report = repair(path);
  assert.deepEqual(
    report.actions.map((a) => [a.action, a.problem.kind]),
    [
      ['set-aside', 'stray-temp'],
      ['set-aside', 'length-past-end'],
      ['set-aside', 'torn-tail'],
    ],
  );
  assert.equal(verify(path).ok, true);
  assertNoByteLost(dir, inputs, 'clean');
});

for (const method of METHODS) {
  test(`${method} failing at each step keeps every byte, and a rerun finishes the job`, (t) => {
    const root = tempDir(t);
    // How many calls a clean run makes decides the steps to fail.
    const probe = failingFs(method, { times: 0 });
    repairWith(makeLog(join(root, 'probe')).path, {}, probe.fs);
    const steps = probe.calls();
    assert.ok(steps > 0 || method === 'renameSync', `${method} is called by repair (${steps} calls)`);
    for (let step = 0; step < steps; step++) {
      const label = `${method} #${step}`;
      const dir = join(root, `${step}`);
      const { path, inputs } = makeLog(dir);
      const f = failingFs(method, { skip: step });
      let error: unknown;
      try {
        repairWith(path, {}, f.fs);
      } catch (err) {
        error = err;
      }
      assert.equal(f.failures(), 1, `${label}: the failure was injected`);
      // fsync of the directory is best effort; every other failure surfaces.
      if (error !== undefined) assert.equal((error as NodeJS.ErrnoException).code, 'EIO', `${label}: the injected error`);
      assertNoByteLost(dir, inputs, label);
      const rerun = repair(path);
      assert.equal(rerun.ok, true, `${label}: rerun ok`);
      assert.equal(verify(path).ok, true, `${label}: verifies after the rerun`);
      assertNoByteLost(dir, inputs, `${label}, after the rerun`);
      assert.deepEqual(readFileSync(join(dir, 'events.0.bin')), BAD_BACKUP.subarray(0, 11), `${label}: backup cut`);
      assert.deepEqual(readFileSync(path), CURRENT.subarray(0, 5), `${label}: current cut`);
    }
  });
}

test('where hard links are refused (EPERM), a stray temp file is renamed to its side file, every byte kept', (t) => {
  const dir = join(tempDir(t), 'log');
  const { path, inputs } = makeLog(dir);
  const fs: FsOps = {
    ...nodeFs,
    linkSync: () => {
      throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM', syscall: 'link' });
    },
  };
  const renames: string[] = [];
  fs.renameSync = (from, to) => {
    renames.push(`${from} -> ${to}`);
    nodeFs.renameSync(from, to);
  };
  const report = repairWith(path, {}, fs);
  assert.equal(report.ok, true);
  assert.deepEqual(renames, [`${join(dir, '.events.bin.next')} -> ${join(dir, 'events.bin.next.corrupt-0')}`]);
  assertNoByteLost(dir, inputs, 'rename fallback');
  assert.equal(verify(path).ok, true);
});
