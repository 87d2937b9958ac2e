/**
 * The real `binlog` binary (dist/cli/index.js, built by `npm run build`,
 * which `npm test` runs first) in child processes.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The built CLI entry point. */
export const CLI = join(process.cwd(), 'dist', 'cli', 'index.js');

function built(): string {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first (npm test does)`);
  return CLI;
}

/** What a run of the CLI gave: exit code, stdout and stderr as text, stdout as bytes. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  raw: Buffer;
}

/** Run `binlog ...args` in `cwd`, with `input` on stdin. */
export function binlog(cwd: string, args: string[], input?: string | Buffer, env: NodeJS.ProcessEnv = process.env): Run {
  const r = spawnSync(process.execPath, [built(), ...args], { cwd, input: input ?? '', timeout: 20_000, env });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString(), raw: r.stdout };
}

/** As binlog(), without waiting: for running many at once. */
export function binlogAsync(cwd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [built(), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const raw = Buffer.concat(out);
      resolve({ code, stdout: raw.toString(), stderr: Buffer.concat(err).toString(), raw });
    });
  });
}

/** Run a shell command line in `cwd` with `binlog` meaning the real binary. */
export function shell(cwd: string, script: string): Run {
  const r = spawnSync('bash', ['-c', `binlog() { "${process.execPath}" "${built()}" "$@"; }\n${script}`], { cwd, timeout: 20_000 });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString(), raw: r.stdout };
}

/** Assert a run's exit code, stdout and stderr, all three at once. */
export function assertRun(r: Run, code: number, stdout: string, stderr = ''): void {
  assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr }, { code, stdout, stderr });
}
