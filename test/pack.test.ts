/**
 * Issue 2, item 1: `npm pack` gives a tarball that installs and imports in a
 * fresh project.
 *
 * The tarball is installed with --offline and an empty npm cache, which
 * proves it needs nothing from the network: the package has no runtime
 * dependencies. Everything runs in one temp dir, removed at the end.
 */
import assert from 'node:assert/strict';
import type { SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, STEP_TIMEOUT_MS, installPacked, run as runIn, runOk as runOkIn, type Consumer, type PackResult } from './helpers/pack.js';

const IS_WINDOWS = process.platform === 'win32';

/** The original's demo messages, in the order the demo writes them. */
const DEMO_MESSAGES = [
  'User login: user123',
  'Action performed: file_upload',
  'Data processed: 1024 bytes',
  'User logout: user123',
];

let consumer: Consumer;
let work = '';
let project = '';
let packed: PackResult;

const run = (command: string, args: string[], cwd: string): SpawnSyncReturns<string> => runIn(consumer.env, command, args, cwd);
const runOk = (command: string, args: string[], cwd: string): string => runOkIn(consumer.env, command, args, cwd);

describe('the npm package', { timeout: 4 * STEP_TIMEOUT_MS }, () => {
  before(() => {
    consumer = installPacked('binlog-consumer');
    ({ work, project, packed } = consumer);
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the tarball holds the built library with its type declarations', () => {
    const paths = packed.files.map((f) => f.path);
    for (const required of ['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/index.js']) {
      assert.ok(paths.includes(required), `${required} is missing from the tarball: ${paths.join(', ')}`);
    }
    assert.ok(existsSync(join(project, 'node_modules', 'binary-logger', 'dist', 'index.d.ts')));
  });

  test('the tarball holds no test, src, bench or build files', () => {
    const stray = packed.files
      .map((f) => f.path)
      .filter((p) => /^(test|src|bench|build|scripts|logs|node_modules|\.ci)\//.test(p) || p.endsWith('.tgz'));
    assert.deepEqual(stray, []);
    const outsideDist = packed.files
      .map((f) => f.path)
      .filter((p) => !p.startsWith('dist/') && !p.startsWith('docs/'))
      .filter((p) => !/^(package\.json|README(\.md)?|LICEN[CS]E(\.md|\.txt)?)$/i.test(p));
    assert.deepEqual(outsideDist, [], 'only dist/, docs/, package.json, README and LICENSE belong in the tarball');
  });

  test('the installed package.json is ESM with types first in exports, a binlog bin and no runtime dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(project, 'node_modules', 'binary-logger', 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(pkg.name, 'binary-logger');
    assert.equal(pkg.type, 'module');
    assert.deepEqual(pkg.engines, { node: '>=20' });
    const exportsMap = pkg.exports as Record<string, Record<string, string>>;
    assert.equal(Object.keys(exportsMap['.']!)[0], 'types', 'TypeScript needs the types condition first');
    assert.equal(exportsMap['.']!.types, './dist/index.d.ts');
    const bin = pkg.bin as Record<string, string>;
    assert.equal(bin.binlog?.replace(/^\.\//, ''), 'dist/cli/index.js');
    for (const field of ['dependencies', 'optionalDependencies', 'bundleDependencies']) {
      const deps = (pkg[field] ?? {}) as Record<string, string>;
      assert.deepEqual(Object.keys(deps), [], `${field} must be empty: the package has no runtime dependencies`);
    }
    // Issue 12: the NATS client is an optional peer (binlog ship/pull only), never installed with the package.
    const peers = Object.keys((pkg.peerDependencies ?? {}) as Record<string, string>);
    const meta = (pkg.peerDependenciesMeta ?? {}) as Record<string, { optional?: boolean }>;
    assert.deepEqual(peers, ['nats']);
    for (const peer of peers) assert.equal(meta[peer]?.optional, true, `peer ${peer} must be optional`);
    assert.equal(existsSync(join(project, 'node_modules', 'nats')), false, 'installing the package installs no NATS client');
    const cli = readFileSync(join(project, 'node_modules', 'binary-logger', 'dist', 'cli', 'index.js'), 'utf8');
    assert.ok(cli.startsWith('#!/usr/bin/env node\n'), 'dist/cli/index.js starts with a node shebang');
  });

  test('an ESM consumer imports BinaryLogger, readLog and CorruptLogError, writes and reads records', () => {
    const script = join(project, 'consumer.mjs');
    writeFileSync(
      script,
      `import { BinaryLogger, readLog, CorruptLogError } from 'binary-logger';
import { join } from 'node:path';

const path = join(process.cwd(), 'logs', 'consumer.bin');
const logger = new BinaryLogger(path, 1000);
logger.write('hello from the tarball');
logger.write(new Uint8Array([0, 1, 255]));
logger.close();

const corrupt = new CorruptLogError('x.bin', 4, 'torn-tail', 'a test');
let deepImport;
try {
  await import('binary-logger/dist/writer.js');
  deepImport = 'imported';
} catch (err) {
  deepImport = err.code;
}
console.log(JSON.stringify({
  resolved: import.meta.resolve('binary-logger'),
  closed: logger.closed,
  first: [...readLog(path)][0],
  raw: [...readLog(path, { encoding: 'buffer' })].map((bytes) => [...bytes]),
  corrupt: {
    isError: corrupt instanceof Error,
    name: corrupt.name,
    code: corrupt.code,
    path: corrupt.path,
    offset: corrupt.offset,
  },
  deepImport,
}));
`,
    );
    const out = JSON.parse(runOk(process.execPath, [script], project)) as Record<string, unknown>;
    const installed = pathToFileURL(join(project, 'node_modules', 'binary-logger')).href;
    assert.ok(
      String(out.resolved).startsWith(`${installed}/`),
      `'binary-logger' must resolve to the installed tarball, not the repository: ${String(out.resolved)}`,
    );
    assert.equal(out.closed, true);
    assert.equal(out.first, 'hello from the tarball');
    assert.deepEqual(out.raw, [[...Buffer.from('hello from the tarball')], [0, 1, 255]]);
    assert.deepEqual(out.corrupt, { isError: true, name: 'CorruptLogError', code: 'ERR_LOG_CORRUPT', path: 'x.bin', offset: 4 });
    assert.equal(out.deepImport, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'only the exports map is public');
  });

  /** A strict TypeScript file using the public API, with facts tsc must infer (a wrong one fails the check). */
  const TYPED_CONSUMER = `import { BinaryLogger, CorruptLogError, follow, openCursor, readLog, type BinaryLoggerOptions, type LogEntry } from 'binary-logger';

const options: BinaryLoggerOptions = { maxFileSize: 1 << 20, durability: 'buffered', flushInterval: 50 };
{
  using logger = new BinaryLogger('./logs/typed.bin', options);
  logger.write('typed');
  logger.write(new Uint8Array([1, 2, 3]));
  logger.flush();
  const closed: boolean = logger.closed;
  logger.on('rotate', (backup) => {
    const named: string = backup;
    void named;
  });
  const bytes: Buffer[] = [...logger.read({ encoding: 'buffer' })];
  void [closed, bytes];
}
using small = new BinaryLogger(new URL('file:///tmp/typed-small.bin'), 100);
const records: string[] = [...readLog('./logs/typed.bin')];
const raw: Buffer[] = [...readLog('./logs/typed.bin', { encoding: 'buffer' })];
const entries: LogEntry<string>[] = [...readLog('./logs/typed.bin', { withPositions: true })];
const own: string[] = [...small.read()];
const followed: AsyncIterableIterator<Buffer> = follow('./logs/typed.bin', { encoding: 'buffer' });
{
  using cursor = openCursor('./logs/typed.bin');
  while (cursor.next()) {
    const length: number = cursor.length;
    const view: Uint8Array = cursor.payload();
    void [length, view];
  }
}
const err = new CorruptLogError('x.bin', 4, 'torn-tail', 'a test');
const where: [string, number, string, 'torn-tail' | 'bad-length' | 'bad-gzip'] = [err.path, err.offset, err.code, err.reason];
void [records, raw, entries, own, followed, where];

// @ts-expect-error maxFileSize is required
new BinaryLogger('./logs/x.bin', {});
// @ts-expect-error a payload is a string or a Uint8Array
small.write(42);
// @ts-expect-error a rotate listener gets the backup's path, a string
small.on('rotate', (backup: number) => backup);
`;

  /** Type-check TYPED_CONSUMER with the tsc at `tsc` and the @types/node under `typeRoot`, as a user's tsconfig says. */
  function typeCheck(name: string, tsc: string, typeRoot: string): void {
    writeFileSync(join(project, 'consumer.ts'), TYPED_CONSUMER);
    writeFileSync(
      join(project, `tsconfig.${name}.json`),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022', 'ESNext.Disposable'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          typeRoots: [typeRoot],
          // What the README tells users: @types/node, named in "types" (TypeScript 7 no longer loads every @types package).
          types: ['node'],
          skipLibCheck: false,
        },
        files: ['consumer.ts'],
      }),
    );
    runOk(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], project);
  }

  test('a TypeScript consumer type-checks against the declarations with the TypeScript of the lockfile', (t) => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    if (!existsSync(tsc)) return t.skip('typescript (a dev dependency) is not installed');
    typeCheck('lockfile', tsc, join(ROOT, 'node_modules', '@types'));
  });

  test('a TypeScript consumer type-checks with the latest TypeScript major and @types/node from the registry', (t) => {
    const dir = join(work, 'ts-latest');
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), '{"name":"ts-latest","version":"1.0.0","private":true}\n');
    const install = run('npm', ['install', 'typescript@latest', '@types/node@20', '--no-audit', '--no-fund', '--no-package-lock'], dir);
    if (install.status !== 0) {
      if (/ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED|ECONNRESET|network/i.test(install.stderr)) {
        return t.skip(`the npm registry is unreachable, so the latest TypeScript cannot be installed: ${install.stderr.trim().split('\n')[0]}`);
      }
      assert.fail(`npm install typescript@latest failed:\n${install.stderr}`);
    }
    const version = JSON.parse(readFileSync(join(dir, 'node_modules', 'typescript', 'package.json'), 'utf8')) as { version: string };
    t.diagnostic(`typescript ${version.version}`);
    typeCheck('latest', join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), join(dir, 'node_modules', '@types'));
  });

  test('a CommonJS consumer require()s the package (Node >= 20.19 loads ES modules with require)', (t) => {
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    if (major === 20 && minor < 19) return t.skip(`Node ${process.versions.node} cannot require() an ES module; 20.19 can`);
    const script = join(project, 'consumer.cjs');
    writeFileSync(
      script,
      `const { BinaryLogger, readLog } = require('binary-logger');
const { join } = require('node:path');
const path = join(process.cwd(), 'logs', 'required.bin');
const logger = new BinaryLogger(path, { maxFileSize: 1000 });
logger.write('hello from require');
logger.close();
console.log(JSON.stringify([...readLog(path)]));
`,
    );
    const result = run(process.execPath, [script], project);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '["hello from require"]\n');
    // Node 20 says require(esm) is experimental; that one warning, and nothing else.
    assert.deepEqual(result.stderr.split('\n').filter((l) => l.trim() !== '' && !/ExperimentalWarning|--trace-warnings/.test(l)), []);
  });

  test('npx binlog --help exits 0 and prints the usage', () => {
    const out = runOk('npx', ['--offline', 'binlog', '--help'], project);
    assert.match(out, /^Usage: binlog <command>/m);
    assert.match(out, /\bdemo\b/);
  });

  test('binlog demo prints the 40 demo records with their index', () => {
    // The bin link itself, so the shebang and the executable bit are tested too.
    const bin = join(project, 'node_modules', '.bin', IS_WINDOWS ? 'binlog.cmd' : 'binlog');
    const out = run(bin, ['demo'], project);
    assert.equal(out.status, 0, out.stderr);
    const records = [...out.stdout.matchAll(/^ *(\d+): (.*)$/gm)].map((m) => [Number(m[1]), m[2]]);
    assert.deepEqual(
      records,
      Array.from({ length: 40 }, (_, i) => [i, DEMO_MESSAGES[i % 4]]),
    );
    assert.ok(existsSync(join(project, 'logs', 'events.bin')), 'the demo writes ./logs/events.bin in its working dir');
    assert.ok(existsSync(join(project, 'logs', 'events.0.bin')), 'the demo rolls over at least once');
  });
});
