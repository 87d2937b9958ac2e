/**
 * The writer's seam (src/writer/commit-path.ts): framed records from
 * anywhere (a staging buffer, or a batch another process sent) go into the
 * log through one commit path, split at the rollover point.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { nodeFs, type FsOps } from '../src/fsops.js';
import { openCommitPath, type CommitPath } from '../src/writer/commit-path.js';
import { parseOptions } from '../src/writer/options.js';
import { frame, listFiles, predictFiles, tempDir } from './helpers.js';

/** A commit path on `path` that records the events it delivers. */
function open(path: string, maxFileSize: number, fs: FsOps = nodeFs): { log: CommitPath; seen: string[] } {
  const seen: string[] = [];
  const log = openCommitPath({
    path,
    settings: parseOptions({ maxFileSize }),
    fs,
    events: { rotated: (backup) => seen.push(`rotate ${backup}`), failed: (err) => seen.push(`error ${(err as Error).message}`) },
  });
  return { log, seen };
}

test('a framed batch is committed whole, split and rolled over at the records that reach maxFileSize', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const payloads = Array.from({ length: 7 }, (_, i) => `record ${i}`.padEnd(50, '.'));
  const { log, seen } = open(path, 100);
  const batch = frame(...payloads);
  log.commit(batch, batch.length);
  assert.deepEqual(seen, [], 'events wait for drainEvents(): a listener may write');
  log.drainEvents();
  assert.deepEqual(seen, [0, 1, 2].map((seq) => `rotate ${join(dir, `events.${seq}.bin`)}`));
  const files = predictFiles(payloads, 100);
  assert.deepEqual([0, 1, 2].map((seq) => readFileSync(join(dir, `events.${seq}.bin`))), files.slice(0, 3));
  assert.deepEqual(readFileSync(path), files[3]);
  assert.equal(log.owner, true);
  log.close();
  assert.equal(log.closed, true);
  assert.deepEqual(
    listFiles(dir).map((f) => f.name),
    ['events.0.bin', 'events.1.bin', 'events.2.bin', 'events.bin'],
    'close() released the lock file',
  );
});

test('a failed commit says how many leading bytes (a record boundary) reached the file, and leaves no partial record', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  let writes = 0;
  // The second write(2) fails: the part of the batch up to the rollover point is in.
  const fs: FsOps = {
    ...nodeFs,
    writeSync: (fd, buf, offset, length) => {
      if (++writes === 2) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
      return nodeFs.writeSync(fd, buf, offset, length);
    },
  };
  const { log, seen } = open(path, 60, fs);
  const batch = frame('a'.repeat(50), 'b'.repeat(20), 'c');
  assert.throws(() => log.commit(batch, batch.length), { code: 'ENOSPC', path });
  assert.equal(log.committed, 78, 'the two records that reached maxFileSize went in and rolled over');
  log.drainEvents();
  assert.deepEqual(seen, [`rotate ${join(dir, 'events.0.bin')}`]);
  assert.deepEqual(readFileSync(join(dir, 'events.0.bin')), frame('a'.repeat(50), 'b'.repeat(20)));
  assert.deepEqual(readFileSync(path), Buffer.alloc(0));
  log.commit(batch.subarray(log.committed), batch.length - 78);
  assert.deepEqual(readFileSync(path), frame('c'));
  log.close();
});
