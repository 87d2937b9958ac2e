/**
 * Issue 10 items 5 and 7: every example in README.md runs verbatim, as a
 * newcomer would run it, and prints what the README shows.
 *
 * The README's fenced blocks are read here:
 * - ```js: saved as a .mjs file and run with node;
 * - ```ts: type-checked with the lockfile's tsc and the README's own
 *   tsconfig (its ```json block with "compilerOptions"), compiled, then run;
 * - ```console: a shell session; each `$ ` line runs in bash (stderr merged
 *   into stdout) with the package's `binlog` on the PATH, and must print the
 *   lines under it;
 * - ```sh: run with bash.
 * A block preceded by `<!-- not run: reason -->` is skipped (installing from
 * a clone, Docker). A ```text block right after an example (only blank lines
 * or one sentence ending in ':' between them) is its exact output.
 *
 * Everything runs in a consumer project that installed the packed tarball
 * (as test/pack.test.ts does: npm pack --ignore-scripts, npm install
 * --offline with an empty cache), each example in its own empty directory.
 * pino and @types/node, which the README tells users to install, are linked
 * in from this repository's node_modules.
 *
 * The README's links are checked too: every anchor names a heading, and
 * every relative link is a file the package ships, except the benchmark
 * results and charts, which the README says live in the repository only.
 */
import assert from 'node:assert/strict';
import type { SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, STEP_TIMEOUT_MS, installPacked, run as runIn, runOk as runOkIn } from './helpers/pack.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Links to repository-only files: the README says so where it links them ("not in the npm package"). */
const REPOSITORY_ONLY = /^(bench\/(RESULTS\.md|README\.md|chart-[A-Z]\d\.svg)|Dockerfile)$/;

interface Block {
  lang: string;
  code: string;
  /** 1-based line of the opening fence, for test titles. */
  line: number;
  /** The reason given in a `<!-- not run: reason -->` comment just before the fence. */
  notRun?: string;
  /** The text block shown right after it, if any. */
  output?: string;
}

/** The fenced blocks of a Markdown text, indented ones (in list items) included. */
function parseBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  /** Lines between the previous block's end and each block's start. */
  const gaps: string[][] = [];
  let gapStart = 0;
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)```(\w*)$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!;
    const end = lines.findIndex((l, j) => j > i && l === `${indent}\`\`\``);
    assert.ok(end > i, `README.md:${i + 1}: a code fence is never closed`);
    const code = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l));
    const before = lines.slice(gapStart, i).filter((l) => l.trim() !== '');
    const marker = /^<!-- not run: (.+) -->$/.exec(before.at(-1)?.trim() ?? '');
    blocks.push({ lang: open[2]!, code: code.join('\n'), line: i + 1, ...(marker ? { notRun: marker[1]! } : {}) });
    gaps.push(before);
    gapStart = end + 1;
    i = end;
  }
  for (let k = 0; k + 1 < blocks.length; k++) {
    const next = blocks[k + 1]!;
    const between = gaps[k + 1]!;
    const lead = between.length === 0 || (between.length <= 2 && between.at(-1)!.trimEnd().endsWith(':'));
    if (next.lang === 'text' && lead) blocks[k]!.output = `${next.code}\n`;
  }
  return blocks;
}

const BLOCKS = parseBlocks(README);
const RUNNABLE = new Set(['js', 'ts', 'sh', 'console']);
const KNOWN = new Set([...RUNNABLE, 'text', 'json']);

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function headings(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^ *```/.test(line)) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (m) out.add(slug(m[1]!));
  }
  return out;
}

let work = '';
let project = '';
let env: NodeJS.ProcessEnv = {};
let packedPaths: string[] = [];
let runs = 0;

const run = (command: string, args: string[], cwd: string, input?: string): SpawnSyncReturns<string> => runIn(env, command, args, cwd, input);
const runOk = (command: string, args: string[], cwd: string): string => runOkIn(env, command, args, cwd);

/** A fresh empty directory inside the consumer project, where an example runs (so 'binary-logger' resolves to the tarball). */
function freshDir(): string {
  const dir = join(project, `run-${++runs}`);
  mkdirSync(dir);
  return dir;
}

/** Run `file` with node in a fresh directory; it must exit 0, print nothing on stderr and, if the README shows its output, exactly that. */
function runExample(block: Block, file: string): void {
  const result = run(process.execPath, [file], freshDir());
  assert.equal(result.status, 0, `README.md:${block.line} exited with ${result.status}\nstderr:\n${result.stderr}`);
  assert.equal(result.stderr, '', `README.md:${block.line} printed on stderr`);
  if (block.output !== undefined) assert.equal(result.stdout, block.output, `README.md:${block.line} printed something else than the README shows`);
}

test('the README opens with a description, Install, an example with its output and a table of contents, in that order', () => {
  const h2 = [...README.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
  assert.deepEqual(h2.slice(0, 4), ['Install', 'Example', 'On a fresh clone', 'Contents']);
  const intro = README.slice(README.indexOf('\n') + 1, README.indexOf('\n## ')).trim();
  assert.ok(intro.split('\n')[0]!.length <= 200, 'the first line under the title is a one-line description');
  for (const section of ['Usage', 'Several processes', 'Beyond one machine', 'Errors', 'CLI', 'Guarantees', 'Performance', 'Internals', 'License']) {
    assert.ok(h2.includes(section), `a "## ${section}" section`);
  }
  assert.ok(h2.indexOf('CLI') < h2.indexOf('Performance') && h2.indexOf('Performance') < h2.indexOf('Internals'), 'the CLI before performance, internals last');
  const first = BLOCKS.find((b) => b.lang === 'js')!;
  assert.match(first.code, /read\(\{ encoding: 'buffer' \}\)/, 'the first example reads its bytes back as bytes');
  assert.ok(first.output?.startsWith('<Buffer '), 'and shows them');
});

test('the README says how long npm test takes and what it needs', () => {
  assert.match(README, /npm install && npm test/);
  assert.match(README, /about \d+ minutes on a 2-core machine/);
  assert.match(README, /python3/);
  assert.match(README, /nats-server/);
  assert.match(README, /npm start -- --force/, 'the demo refuses a second run and names --force');
});

test('every code block is of a known kind, and every block not run says why', () => {
  const kinds = BLOCKS.map((b) => b.lang);
  assert.deepEqual(kinds.filter((k) => !KNOWN.has(k)), [], 'fences are js, ts, sh, console, text or json');
  for (const block of BLOCKS.filter((b) => b.notRun !== undefined)) assert.ok(block.notRun!.length >= 10, `README.md:${block.line}: say why it is not run`);
  // A block that needs what a test machine may lack (a clone to install, Docker, a server) says so; the rest run.
  assert.ok(BLOCKS.filter((b) => RUNNABLE.has(b.lang) && b.notRun === undefined).length >= 15);
});

test('every anchor in the README names one of its headings', () => {
  const anchors = headings(README);
  const missing = [...README.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!).filter((a) => !anchors.has(a));
  assert.deepEqual(missing, []);
});

describe('the README run against the packed tarball', { timeout: 8 * STEP_TIMEOUT_MS }, () => {
  before(() => {
    const consumer = installPacked('readme-consumer');
    ({ work, project, env } = consumer);
    packedPaths = consumer.packed.files.map((f) => f.path);
    // What the README has users install beside it: pino (for its pino examples) and @types/node.
    mkdirSync(join(project, 'node_modules', '@types'));
    symlinkSync(join(ROOT, 'node_modules', 'pino'), join(project, 'node_modules', 'pino'), 'dir');
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(project, 'node_modules', '@types', 'node'), 'dir');
    env.PATH = `${join(project, 'node_modules', '.bin')}${delimiter}${env.PATH ?? ''}`;
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('every relative link in the README is a file the package ships, or one the README says is in the repository only', () => {
    const targets = [...README.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)]
      .map((m) => ({ path: m[1]!, anchor: m[2]?.slice(1) }))
      .filter(({ path }) => !/^[a-z]+:/i.test(path));
    assert.ok(targets.length >= 10);
    for (const { path, anchor } of targets) {
      assert.ok(existsSync(join(ROOT, path)), `the README links ${path}, which is not in the repository`);
      if (REPOSITORY_ONLY.test(path)) continue;
      assert.ok(packedPaths.includes(path), `the README links ${path}, which the package does not ship: add it to "files" in package.json`);
      if (anchor) assert.ok(headings(readFileSync(join(ROOT, path), 'utf8')).has(anchor), `${path} has no heading #${anchor}`);
    }
    assert.match(README, /bench\/` folder, not in the npm package/, 'the README says where the charts are');
  });

  for (const block of BLOCKS.filter((b) => b.lang === 'js' && b.notRun === undefined)) {
    test(`the JavaScript example at README.md:${block.line} runs and prints what the README shows`, () => {
      const file = join(project, `example-${block.line}.mjs`);
      writeFileSync(file, `${block.code}\n`);
      runExample(block, file);
    });
  }

  const tsBlocks = BLOCKS.filter((b) => b.lang === 'ts' && b.notRun === undefined);
  describe('the TypeScript examples', () => {
    before(() => {
      // The README's tsconfig, as a user would copy it, plus where to put the files.
      const json = BLOCKS.find((b) => b.lang === 'json' && b.code.includes('"compilerOptions"'));
      assert.ok(json, 'the README shows a tsconfig.json');
      const config = JSON.parse(json.code) as { compilerOptions: Record<string, unknown> };
      mkdirSync(join(project, 'ts'));
      for (const block of tsBlocks) writeFileSync(join(project, 'ts', `example-${block.line}.ts`), `${block.code}\n`);
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({ ...config, compilerOptions: { ...config.compilerOptions, rootDir: 'ts', outDir: 'out' }, include: ['ts'] }),
      );
      runOk(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], project);
    });

    for (const block of tsBlocks) {
      test(`the TypeScript example at README.md:${block.line} type-checks (strict), runs and prints what the README shows`, () => {
        runExample(block, join(project, 'out', `example-${block.line}.js`));
      });
    }
  });

  for (const block of BLOCKS.filter((b) => b.lang === 'sh' && b.notRun === undefined)) {
    test(`the shell example at README.md:${block.line} runs`, () => {
      const result = run('bash', ['-e', '-c', block.code], freshDir());
      assert.equal(result.status, 0, result.stderr);
      if (block.output !== undefined) assert.equal(result.stdout, block.output);
    });
  }

  for (const block of BLOCKS.filter((b) => b.lang === 'console' && b.notRun === undefined)) {
    test(`the shell session at README.md:${block.line} prints, command by command, what the README shows`, () => {
      const cwd = freshDir();
      const steps: Array<{ command: string; output: string[] }> = [];
      for (const line of block.code.split('\n')) {
        if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: [] });
        else {
          assert.ok(steps.length > 0, `README.md:${block.line}: a session starts with a "$ " command`);
          steps.at(-1)!.output.push(line);
        }
      }
      for (const { command, output } of steps) {
        const result = run('bash', ['-c', `exec 2>&1\n${command}`], cwd);
        assert.equal(result.stdout, output.map((l) => `${l}\n`).join(''), `$ ${command}`);
      }
    });
  }
});
