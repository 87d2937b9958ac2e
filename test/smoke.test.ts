import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BinaryLogger, readLog } from '../src/index.js';
import { listFiles, predictFiles, tempDir } from './helpers.js';

test('the spec example rolls over every second write into backups 0..4', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'events.bin');
  const payloads = Array.from({ length: 10 }, () => 'a'.repeat(50));
  {
    using logger = new BinaryLogger(path, 100);
    for (const p of payloads) logger.write(p);
  }
  assert.deepEqual(listFiles(dir), [
    { name: 'events.0.bin', size: 108 },
    { name: 'events.1.bin', size: 108 },
    { name: 'events.2.bin', size: 108 },
    { name: 'events.3.bin', size: 108 },
    { name: 'events.4.bin', size: 108 },
    { name: 'events.bin', size: 0 },
  ]);
  const predicted = predictFiles(payloads, 100);
  assert.deepEqual(readFileSync(join(dir, 'events.0.bin')), predicted[0]);
  assert.deepEqual([...readLog(path)], payloads);
});
