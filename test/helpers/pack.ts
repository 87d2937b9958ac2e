/**
 * A consumer project with the packed tarball installed, as a user gets it
 * from `npm install binary-logger`: test/pack.test.ts checks the package,
 * test/readme.test.ts runs the README's examples in it.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This file runs as build/test/helpers/pack.js; the package is three levels up. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const STEP_TIMEOUT_MS = 60_000;
const IS_WINDOWS = process.platform === 'win32';

export interface PackResult {
  filename: string;
  files: Array<{ path: string; size: number; mode: number }>;
}

/** A temp dir holding an npm cache, the tarball and a consumer project that installed it. */
export interface Consumer {
  work: string;
  project: string;
  packed: PackResult;
  /** The environment of a user's shell (see cleanEnv); tests may extend it. */
  env: NodeJS.ProcessEnv;
}

/**
 * The environment of a user's shell, not of the `npm test` that runs us:
 * npm passes its own config down as npm_* variables (npm_config_local_prefix
 * among them), and node --test marks its children with NODE_TEST_CONTEXT.
 */
function cleanEnv(cache: string): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'NODE_TEST_CONTEXT' || key === 'NODE_OPTIONS') continue;
    clean[key] = value;
  }
  return { ...clean, npm_config_cache: cache, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
}

/** Run a command in the consumer's environment; the caller judges the status. */
export function run(env: NodeJS.ProcessEnv, command: string, args: string[], cwd: string, input?: string): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, {
    cwd,
    env,
    encoding: 'utf8',
    timeout: STEP_TIMEOUT_MS,
    // npm, npx and bin links are .cmd scripts on Windows, which only a shell runs.
    shell: IS_WINDOWS && command !== process.execPath,
    ...(input === undefined ? {} : { input }),
  });
  if (result.error) throw result.error;
  return result;
}

/** Run and require exit status 0, showing the output if not. */
export function runOk(env: NodeJS.ProcessEnv, command: string, args: string[], cwd: string): string {
  const result = run(env, command, args, cwd);
  assert.equal(
    result.status,
    0,
    `${command} ${args.join(' ')} exited with ${result.status} (signal ${result.signal})\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
  );
  return result.stdout;
}

/** Pack the package (building it first if this file runs alone) and install the tarball into a fresh project named `name`. */
export function installPacked(name: string): Consumer {
  const work = mkdtempSync(join(tmpdir(), `${name}-`));
  const env = cleanEnv(join(work, 'npm-cache'));
  // npm test builds first (pretest); run alone, a test file may find no dist.
  const built = ['index.js', 'index.d.ts', join('cli', 'index.js')].every((file) => existsSync(join(ROOT, 'dist', file)));
  if (!built) runOk(env, 'npm', ['run', 'build'], ROOT);

  // --ignore-scripts: dist is built already, and a prepack rebuild would
  // rewrite dist while other test files may be running it.
  const dest = join(work, 'pack');
  mkdirSync(dest);
  const results = JSON.parse(runOk(env, 'npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], ROOT)) as PackResult[];
  assert.equal(results.length, 1, `npm pack made ${results.length} tarballs`);
  const packed = results[0]!;
  const tarball = join(dest, packed.filename);
  assert.ok(existsSync(tarball), `npm pack reported ${packed.filename} but it is not in ${dest}`);

  const project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  runOk(env, 'npm', ['install', tarball, '--offline', '--no-audit', '--no-fund', '--no-package-lock'], project);
  return { work, project, packed, env };
}
