/** The original's demo: 40 events, rollover, read back, files listed. */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BinaryLogger } from './writer.js';
import { listBackups, splitName } from './naming.js';

export const DEMO_MESSAGES = [
  'User login: user123',
  'Action performed: file_upload',
  'Data processed: 1024 bytes',
  'User logout: user123',
] as const;

/** Write the 40 demo events to `path`, read them back, list the files. */
export function runDemo(path = './logs/events.bin', maxFileSize = 1000, out: (line: string) => void = console.log): void {
  // Start from an empty log, so every run shows the same 40 records.
  for (const backup of listBackups(path)) rmSync(backup.path);
  rmSync(path, { force: true });
  {
    using logger = new BinaryLogger(path, maxFileSize);
    for (let i = 0; i < 10; i++) for (const message of DEMO_MESSAGES) logger.write(message);
    out(`Wrote 40 events to ${relative(process.cwd(), logger.path) || logger.path} (maxFileSize ${maxFileSize})`);
    out('');
    let index = 0;
    for (const record of logger.read()) out(`${String(index++).padStart(2)}: ${record}`);
    out('');
    const { dir } = splitName(logger.path);
    out(`Files in ${relative(process.cwd(), dir) || dir}:`);
    for (const name of readdirSync(dir).filter((n) => !n.startsWith('.')).sort()) {
      out(`  ${name.padEnd(16)} ${String(statSync(join(dir, name)).size).padStart(6)} bytes`);
    }
  }
}
