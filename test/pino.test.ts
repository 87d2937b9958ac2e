/**
 * Issue 10 item 1: pino takes a BinaryLogger as its destination in every
 * form: pino(logger), pino(options, logger), and as a multistream stream.
 * Every log line is exactly one record.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { BinaryLogger, readLog } from '../src/index.js';
import { tempDir } from './helpers.js';

const LINES = 12;

/** Log LINES info lines and one warning through `log`, and flush it. */
async function logLines(log: pino.Logger): Promise<void> {
  for (let i = 0; i < LINES; i++) log.info({ i }, `event ${i}`);
  log.warn('multi\nline');
  await new Promise<void>((resolve, reject) => log.flush((err) => (err ? reject(err) : resolve())));
}

test('writable is true while the logger is open and false once it is closed, as pino checks', (t) => {
  const logger = new BinaryLogger(join(tempDir(t), 'events.bin'), 1000);
  assert.equal(logger.writable, true);
  logger.close();
  assert.equal(logger.writable, false);
  // pino's normalizeArgs takes a single argument as a stream when it has a truthy `writable`.
  const tools = readFileSync(new URL('../../node_modules/pino/lib/tools.js', import.meta.url), 'utf8');
  assert.match(tools, /opts instanceof SonicBoom \|\| opts\.writable \|\| opts\._writableState/);
});

test('pino(logger) with the logger as its only argument writes every log line as one record', async (t) => {
  const path = join(tempDir(t), 'events.bin');
  const logger = new BinaryLogger(path, { maxFileSize: 300, durability: 'buffered' });
  await logLines(pino(logger));
  logger.close();
  const records = [...readLog(path)];
  assert.equal(records.length, LINES + 1);
  for (const [i, record] of records.entries()) {
    assert.equal(record.indexOf('\n'), record.length - 1, `record ${i} is one line with its newline`);
    const { time, ...fields } = JSON.parse(record) as Record<string, unknown>;
    assert.equal(typeof time, 'number');
    const expected = i < LINES ? { level: 30, i, msg: `event ${i}` } : { level: 40, msg: 'multi\nline' };
    assert.deepEqual(fields, { ...expected, pid: process.pid, hostname: hostname() });
  }
});

test('pino(options, logger) writes every log line as one record', async (t) => {
  const path = join(tempDir(t), 'events.bin');
  const logger = new BinaryLogger(path, 300);
  await logLines(pino({ base: null, timestamp: false }, logger));
  logger.close();
  const expected = [
    ...Array.from({ length: LINES }, (_, i) => `${JSON.stringify({ level: 30, i, msg: `event ${i}` })}\n`),
    `${JSON.stringify({ level: 40, msg: 'multi\nline' })}\n`,
  ];
  assert.deepEqual([...readLog(path)], expected);
});

test('pino.multistream with the logger as one of its streams writes its lines as records, filtered by level', async (t) => {
  const dir = tempDir(t);
  const all = new BinaryLogger(join(dir, 'all.bin'), { maxFileSize: 300, durability: 'buffered' });
  const warnings = new BinaryLogger(join(dir, 'warn.bin'), 300);
  const streams = pino.multistream([{ stream: all }, { level: 'warn', stream: warnings }]);
  await logLines(pino({ base: null, timestamp: false }, streams));
  all.close();
  warnings.close();
  const warning = `${JSON.stringify({ level: 40, msg: 'multi\nline' })}\n`;
  assert.deepEqual([...readLog(join(dir, 'all.bin'))], [
    ...Array.from({ length: LINES }, (_, i) => `${JSON.stringify({ level: 30, i, msg: `event ${i}` })}\n`),
    warning,
  ]);
  assert.deepEqual([...readLog(join(dir, 'warn.bin'))], [warning]);
});
