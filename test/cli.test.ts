/**
 * The binlog CLI (issue 6 item 1), end to end: the real binary
 * (dist/cli/index.js, built by `npm run build`, which `npm test` runs first)
 * in child processes, with exact stdout, the stderr hint lines and the exit
 * codes. Also: the demo never deletes a log it did not write, a path with no
 * log or a file that is not a log is an error (issue 10 items 2 and 3), and
 * the README's CLI table is the one `binlog help --markdown` renders.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { BinaryLogger, readLog } from '../src/index.js';
import { cliMarkdownTable, mainUsage } from '../src/cli/help.js';
import { splitItems } from '../src/cli/commands/write.js';
import { COMMANDS as COMMAND_SPECS } from '../src/cli/commands/index.js';
import { verify } from '../src/index.js';
import { CLI, REPO_ROOT, assertRun, binlog, binlogAsync, frame, setByte, shell, snapshot, tempDir } from './helpers.js';

/** The original's demo log (binlog demo) in a fresh directory. */
function demoLog(t: Parameters<typeof tempDir>[0]): string {
  const cwd = tempDir(t);
  const r = binlog(cwd, ['demo']);
  assert.equal(r.code, 0, r.stderr);
  return cwd;
}

const COMMANDS = ['cat', 'tail', 'stats', 'verify', 'repair', 'write', 'ship', 'pull', 'demo'];

test('binlog --help lists every command; bare binlog prints it on stderr and exits 2', (t) => {
  const cwd = tempDir(t);
  const help = binlog(cwd, ['--help']);
  assert.equal(help.code, 0);
  assert.equal(help.stderr, '');
  assert.match(help.stdout, /^Usage: binlog <command> <log> \[options\]\n/);
  for (const c of COMMANDS) assert.match(help.stdout, new RegExp(`\\n  ${c} `), c);
  assert.match(help.stdout, /Exit status: 0 ok, 1 a problem found/);
  assert.deepEqual(binlog(cwd, ['-h']).stdout, help.stdout);
  const bare = binlog(cwd, []);
  assertRun(bare, 2, '', help.stdout);
  const pkg = createRequire(import.meta.url)(join(REPO_ROOT, 'package.json')) as { version: string };
  assertRun(binlog(cwd, ['--version']), 0, `${pkg.version}\n`);
});

test('every command has its own --help on stdout, exit 0', async (t) => {
  const cwd = tempDir(t);
  // -h for one command, --help for the others: one parser serves them all.
  const flags = COMMANDS.map((c, i) => (i === 0 ? '-h' : '--help'));
  const runs = await Promise.all(COMMANDS.map((c, i) => binlogAsync(cwd, [c, flags[i]!])));
  for (const [i, c] of COMMANDS.entries()) {
    for (const flag of [flags[i]!]) {
      const r = runs[i]!;
      assert.equal(r.code, 0, `${c} ${flag}`);
      assert.equal(r.stderr, '', `${c} ${flag}`);
      assert.match(r.stdout, new RegExp(`^Usage: binlog ${c}\\b`), `${c} ${flag}`);
      assert.ok(r.stdout.endsWith('\n') && !r.stdout.endsWith('\n\n'), `${c} ${flag}`);
      for (const line of r.stdout.split('\n')) assert.ok(line.length <= 80, `${c}: line over 80 columns: ${line}`);
    }
  }
  assert.equal(readdirSync(cwd).length, 0, '--help touches nothing');
});

test('usage errors exit 2 with a one-line hint naming the command', async (t) => {
  const cwd = tempDir(t);
  writeFileSync(join(cwd, 'log'), frame('a'));
  const cases: Array<[string[], string]> = [
    [['frob'], `binlog: unknown command "frob"; try 'binlog --help'`],
    [['--frob'], `binlog: unknown option --frob; try 'binlog --help'`],
    [['cat'], `binlog cat: missing <log>, the path of the log's current file; try 'binlog cat --help'`],
    [['cat', 'log', '--bogus'], `binlog cat: unknown option --bogus; try 'binlog cat --help'`],
    [['cat', 'log', '--skip'], `binlog cat: option --skip needs a value; try 'binlog cat --help'`],
    [['cat', 'log', '--skip', 'x'], `binlog cat: --skip takes a whole number, got "x"; try 'binlog cat --help'`],
    [['cat', 'log', '--limit=-1'], `binlog cat: --limit takes a whole number, got "-1"; try 'binlog cat --help'`],
    [['cat', 'log', '--json', '--raw'], `binlog cat: --json and --raw exclude each other; try 'binlog cat --help'`],
    [['tail', 'log', '-n', '1.5'], `binlog tail: -n takes a whole number, got "1.5"; try 'binlog tail --help'`],
    [['verify', 'log', '--fix'], `binlog verify: unknown option --fix; try 'binlog verify --help'`],
    [['write', 'log'], `binlog write: --max-size N is required (the size in bytes at which the current file rolls over); try 'binlog write --help'`],
    [['write', 'log', '--max-size', '0'], `binlog write: --max-size must be at least 1; try 'binlog write --help'`],
    [
      ['write', 'log', '--max-size', '9', '--durability', 'fast'],
      `binlog write: --durability takes one of sync, buffered, fsync, buffered-fsync; got "fast"; try 'binlog write --help'`,
    ],
    [['demo', 'extra'], `binlog demo: unexpected argument "extra"; try 'binlog demo --help'`],
  ];
  const runs = await Promise.all(cases.map(([args]) => binlogAsync(cwd, args)));
  cases.forEach(([args, hint], i) => assert.deepEqual(runs[i], { ...runs[i]!, code: 2, stdout: '', stderr: `${hint}\n` }, args.join(' ')));
  assert.deepEqual(readFileSync(join(cwd, 'log')), frame('a'), 'usage errors touch nothing');
});

test('a pipeline writes stdin lines as records and cat prints them back', (t) => {
  const cwd = tempDir(t);
  const r = shell(cwd, `printf 'a\\nb\\n' | binlog write log --max-size 100 && binlog cat log`);
  assertRun(r, 0, 'a\nb\n');
  assert.deepEqual(readFileSync(join(cwd, 'log')), frame('a', 'b'));
  // An empty line is an empty record; a last line without a newline counts too; bytes are kept as they are.
  assertRun(binlog(cwd, ['write', 'log', '--max-size', '100'], Buffer.from('\nc\r\n\xffd', 'latin1')), 0, '');
  assert.deepEqual([...readLog(join(cwd, 'log'), { encoding: 'buffer' })], [
    Buffer.from('a'),
    Buffer.from('b'),
    Buffer.from(''),
    Buffer.from('c\r'),
    Buffer.from([0xff, 0x64]),
  ]);
  assertRun(binlog(cwd, ['cat', 'log', '--json']), 0, '"a"\n"b"\n""\n"c\\r"\n{"base64":"/2Q="}\n');
});

test('write --null takes NUL-separated items, newlines and all, and rolls over at --max-size', (t) => {
  const cwd = tempDir(t);
  const r = shell(cwd, `printf 'one\\ntwo\\0three\\0\\0four' | binlog write logs/e.bin --max-size 12 --null`);
  assertRun(r, 0, '');
  assert.deepEqual(readdirSync(join(cwd, 'logs')).sort(), ['e.0.bin', 'e.1.bin', 'e.bin']);
  assertRun(binlog(cwd, ['cat', 'logs/e.bin', '--json']), 0, '"one\\ntwo"\n"three"\n""\n"four"\n');
  assertRun(binlog(cwd, ['write', 'logs/e.bin', '--max-size', '12', '-0'], 'five\0'), 0, '');
  assertRun(binlog(cwd, ['tail', 'logs/e.bin', '-n', '2']), 0, 'four\nfive\n');
});

test('write streams a large input through a pipe in every durability', (t) => {
  for (const durability of ['buffered', 'sync']) {
    const cwd = tempDir(t);
    const r = shell(cwd, `seq 1 100000 | binlog write big.bin --max-size 100000 --durability ${durability}`);
    assertRun(r, 0, '', '');
    const report = verify(join(cwd, 'big.bin'));
    assert.equal(report.ok, true, durability);
    assert.equal(report.files.reduce((n, f) => n + f.records, 0), 100000, durability);
    assert.ok(report.files.length >= 6, `${durability}: ${report.files.length} files`);
    assertRun(binlog(cwd, ['tail', 'big.bin', '-n', '3']), 0, '99998\n99999\n100000\n');
    assertRun(binlog(cwd, ['cat', 'big.bin', '--skip', '41', '--limit', '2']), 0, '42\n43\n');
  }
});

test('cat prints every record oldest first: text, --json, --raw, --skip and --limit', (t) => {
  const cwd = tempDir(t);
  const path = join(cwd, 'events.bin');
  {
    using logger = new BinaryLogger(path, 20);
    for (const r of ['first', 'tab\there', 'new\nline', 'é🚀', '', 'last']) logger.write(r);
    logger.write(Buffer.from([0xfe, 0x00]));
  }
  const text = binlog(cwd, ['cat', 'events.bin']);
  assertRun(text, 0, 'first\ntab\there\nnew\nline\né🚀\n\nlast\n\ufffd\x00\n');
  assert.deepEqual(text.raw.subarray(-3), Buffer.from([0xfe, 0x00, 0x0a]), 'text output keeps the bytes as they are');
  assertRun(
    binlog(cwd, ['cat', 'events.bin', '--json']),
    0,
    ['"first"', '"tab\\there"', '"new\\nline"', '"é🚀"', '""', '"last"', '{"base64":"/gA="}', ''].join('\n'),
  );
  const files = readdirSync(cwd)
    .filter((n) => /^events\.\d+\.bin$/.test(n))
    .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]))
    .map((n) => readFileSync(join(cwd, n)));
  const raw = binlog(cwd, ['cat', 'events.bin', '--raw']);
  assert.equal(raw.code, 0);
  assert.deepEqual(raw.raw, Buffer.concat([...files, readFileSync(path)]), '--raw is the records themselves');
  writeFileSync(join(cwd, 'copy.bin'), raw.raw);
  assertRun(binlog(cwd, ['cat', 'copy.bin', '--json', '--skip', '2', '--limit', '3']), 0, '"new\\nline"\n"é🚀"\n""\n');
  assertRun(binlog(cwd, ['cat', 'events.bin', '--skip', '6']), 0, '\ufffd\x00\n');
  assertRun(binlog(cwd, ['cat', 'events.bin', '--skip', '99']), 0, '');
  assertRun(binlog(cwd, ['cat', 'events.bin', '--limit', '0']), 0, '');
});

test('cat of a corrupt backup prints the records before it, then the file and offset, and exits 1', (t) => {
  const cwd = tempDir(t);
  mkdirSync(join(cwd, 'logs'));
  writeFileSync(join(cwd, 'logs', 'events.0.bin'), frame('a', 'bb', 'ccc'));
  writeFileSync(join(cwd, 'logs', 'events.bin'), frame('d'));
  setByte(join(cwd, 'logs', 'events.0.bin'), 8, 0x7f);
  assertRun(
    binlog(cwd, ['cat', 'logs/events.bin']),
    1,
    'a\n',
    "binlog cat: Corrupt log file \"logs/events.0.bin\" at byte 5: a record of 127 bytes runs past the end of the file (18 bytes) ('binlog verify' lists every problem, 'binlog repair' fixes what it can)\n",
  );
  assertRun(binlog(cwd, ['cat', 'logs/nothing.bin']), 1, '', 'binlog cat: no log at logs/nothing.bin: no current file and no backups\n');
  assertRun(binlog(cwd, ['tail', 'logs/events.bin', '-n', '1']), 0, 'd\n');
  assert.equal(binlog(cwd, ['tail', 'logs/events.bin', '-n', '2']).code, 1);
});

test('cat into a reader that goes away (| head) stops quietly with exit 0', (t) => {
  const cwd = tempDir(t);
  writeFileSync(join(cwd, 'big.bin'), frame(...Array.from({ length: 50_000 }, (_, i) => `record number ${i}`)));
  for (const flags of ['', '--json', '--raw']) {
    const r = shell(cwd, `binlog cat big.bin ${flags} | head -c 10 > /dev/null; echo "binlog exit \${PIPESTATUS[0]}"`);
    assertRun(r, 0, 'binlog exit 0\n', '');
  }
});

test('tail prints the last N records, 10 by default', (t) => {
  const cwd = demoLog(t);
  assertRun(binlog(cwd, ['tail', 'logs/events.bin', '-n', '2']), 0, 'Data processed: 1024 bytes\nUser logout: user123\n');
  assertRun(binlog(cwd, ['tail', 'logs/events.bin', '--lines=1', '--json']), 0, '"User logout: user123"\n');
  assert.equal(binlog(cwd, ['tail', 'logs/events.bin']).stdout.split('\n').length, 11);
  assertRun(binlog(cwd, ['tail', 'logs/events.bin', '-n', '0']), 0, '');
  const all = binlog(cwd, ['cat', 'logs/events.bin']).stdout;
  assertRun(binlog(cwd, ['tail', 'logs/events.bin', '-n', '1000']), 0, all);
});

test('stats prints files, totals, payload sizes and backup numbers', (t) => {
  const cwd = demoLog(t);
  assertRun(
    binlog(cwd, ['stats', 'logs/events.bin']),
    0,
    [
      'file          bytes  records',
      'events.0.bin   1013       37',
      'events.bin       87        3',
      'total          1100       40  in 2 files',
      'payload bytes: min 19, mean 23.5, max 29',
      'backups: first 0, last 0',
      'open by: nobody',
      '',
    ].join('\n'),
  );
  const json = JSON.parse(binlog(cwd, ['stats', 'logs/events.bin', '--json']).stdout);
  assert.equal(json.owner, null);
  assert.deepEqual(json.totals, { files: 2, bytes: 1100, records: 40, payloadBytes: 940 });
  assert.deepEqual(json.payload, { min: 19, mean: 23.5, max: 29 });
  assert.deepEqual(json.backups, { first: 0, last: 0 });
  assert.deepEqual(json.files.map((f: { name: string }) => f.name), ['events.0.bin', 'events.bin']);

  writeFileSync(join(cwd, 'logs', 'events.bin'), Buffer.from([0, 0, 0, 9]));
  writeFileSync(join(cwd, 'logs', 'events.5.bin'), '');
  assertRun(
    binlog(cwd, ['stats', 'logs/events.bin']),
    1,
    [
      'file          bytes  records',
      'events.0.bin   1013       37',
      'events.5.bin      0        0',
      'events.bin        4        0',
      'total          1017       37  in 3 files',
      'payload bytes: min 19, mean 23.4, max 29',
      'backups: first 0, last 5',
      'open by: nobody',
      '',
    ].join('\n'),
    "binlog stats: 2 problems found; the counts cover whole records only ('binlog verify logs/events.bin' lists them)\n",
  );
});

test('stats names the process that has the log open, and for multiProcess how many client processes write through it', async (t) => {
  const cwd = tempDir(t);
  const path = join(cwd, 'events.bin');
  const plain = new BinaryLogger(path, 1000);
  plain.write('one');
  const open = await binlogAsync(cwd, ['stats', 'events.bin']);
  assert.equal(open.code, 0, open.stderr);
  assert.match(open.stdout, new RegExp(`\\nopen by: process ${process.pid}, thread \\d+\\n$`));
  plain.close();
  const shared = new BinaryLogger(path, { maxFileSize: 1000, multiProcess: true });
  t.after(() => shared.close());
  const json = await binlogAsync(cwd, ['stats', 'events.bin', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const { owner } = JSON.parse(json.stdout) as { owner: { pid: number; multiProcess: boolean; clients: number } };
  assert.deepEqual([owner.pid, owner.multiProcess, owner.clients], [process.pid, true, 0]);
  const text = await binlogAsync(cwd, ['stats', 'events.bin']);
  assert.match(text.stdout, new RegExp(`\\nopen by: process ${process.pid}, thread \\d+ \\(multiProcess, 0 client processes\\)\\n$`));
});

test('verify prints ok and exits 0 on a sound log; each problem with file, offset and kind and exits 1 otherwise', (t) => {
  const cwd = demoLog(t);
  assertRun(binlog(cwd, ['verify', 'logs/events.bin']), 0, 'ok: 2 files, 40 records, 1100 bytes\n');
  assertRun(binlog(cwd, ['verify', 'logs/events.bin', '--utf8']), 0, 'ok: 2 files, 40 records, 1100 bytes\n');
  const logs = join(cwd, 'logs');
  writeFileSync(join(logs, 'events.3.bin'), Buffer.concat([frame('x', Buffer.from([0xff, 0x41])), Buffer.from([0, 0, 1])]));
  writeFileSync(join(logs, 'events.bin'), Buffer.concat([frame('y'), Buffer.from([0, 0, 0, 5, 0x41])]));
  writeFileSync(join(logs, '.events.bin.next'), '');
  assertRun(
    binlog(cwd, ['verify', 'logs/events.bin']),
    1,
    [
      'logs/.events.bin.next:0: stray-temp: a rollover was interrupted and left its temporary file (0 bytes); the next logger to open the log removes it',
      'logs/events.1.bin:0: numbering-gap: backups 1 to 2 are missing (between 0 and 3); readers read through the gap',
      'logs/events.3.bin:11: length-past-end: 3 bytes at the end of the file are not a whole record (a record starts with a 4-byte length); readers throw ERR_LOG_CORRUPT here',
      'logs/events.bin:5: torn-tail: a record of 5 bytes runs past the end of the file (10 bytes); readers stop before it',
      '4 problems in 3 files, 40 records, 1037 bytes',
      '',
    ].join('\n'),
  );
  const withUtf8 = binlog(cwd, ['verify', 'logs/events.bin', '--utf8']);
  assert.equal(withUtf8.code, 1);
  assert.match(withUtf8.stdout, /\nlogs\/events\.3\.bin:5: invalid-utf8: the payload of a record of 2 bytes is not well-formed UTF-8\n/);
  const json = binlog(cwd, ['verify', 'logs/events.bin', '--json']);
  assert.equal(json.code, 1);
  assert.deepEqual(JSON.parse(json.stdout), verify(join(logs, 'events.bin')));
  assert.equal(json.stderr, '');
});

test('verify draws a progress bar on stderr only when it is a terminal and the log is large', (t) => {
  const cwd = tempDir(t);
  const payload = Buffer.alloc(1 << 20, 0x61);
  writeFileSync(join(cwd, 'big.bin'), frame(...Array.from({ length: 65 }, () => payload)));
  const plain = binlog(cwd, ['verify', 'big.bin']);
  assertRun(plain, 0, 'ok: 1 file, 65 records, 68157700 bytes\n', '');
  const small = join(cwd, 'small.bin');
  writeFileSync(small, frame('a'));
  const hasScript = spawnSync('script', ['--version']).status === 0;
  if (!hasScript) {
    t.diagnostic('script(1) is not installed: the terminal half is skipped');
    return;
  }
  // script(1) gives the child a terminal; its output is what the terminal showed.
  const tty = (file: string): string =>
    spawnSync('script', ['-qec', `"${process.execPath}" "${CLI}" verify ${file}`, '/dev/null'], { cwd, timeout: 20_000 }).stdout.toString();
  const big = tty('big.bin');
  assert.match(big, /\rverifying \[#* *\] +\d+% [\d.]+\/65\.0 MiB/);
  assert.match(big, /\r\x1b\[Kok: 1 file, 65 records, 68157700 bytes/);
  assert.doesNotMatch(tty('small.bin'), /verifying/);
});

test('repair says what it would do without --yes, does it with --yes, and the log then verifies', (t) => {
  const cwd = tempDir(t);
  const logs = join(cwd, 'logs');
  mkdirSync(logs);
  writeFileSync(join(logs, 'events.0.bin'), frame('a', 'bb', 'ccc'));
  setByte(join(logs, 'events.0.bin'), 8, 0x7f);
  writeFileSync(join(logs, 'events.bin'), Buffer.concat([frame('cur'), Buffer.from([0, 0])]));
  const before = readdirSync(logs).sort();
  assertRun(
    binlog(cwd, ['repair', 'logs/events.bin']),
    1,
    [
      'would set aside 13 bytes of logs/events.0.bin from byte 5 (length-past-end) into logs/events.0.bin.corrupt-5, and cut the file to 5 bytes',
      'would set aside 2 bytes of logs/events.bin from byte 7 (torn-tail) into logs/events.bin.corrupt-7, and cut the file to 7 bytes',
      "nothing was changed; run 'binlog repair logs/events.bin --yes' to do it",
      '',
    ].join('\n'),
  );
  assert.deepEqual(readdirSync(logs).sort(), before);
  assertRun(
    binlog(cwd, ['repair', 'logs/events.bin', '--yes']),
    0,
    [
      'set aside 13 bytes of logs/events.0.bin from byte 5 (length-past-end) into logs/events.0.bin.corrupt-5, and cut the file to 5 bytes',
      'set aside 2 bytes of logs/events.bin from byte 7 (torn-tail) into logs/events.bin.corrupt-7, and cut the file to 7 bytes',
      '',
    ].join('\n'),
  );
  assert.deepEqual(readFileSync(join(logs, 'events.bin.corrupt-7')), Buffer.from([0, 0]));
  assert.equal(readFileSync(join(logs, 'events.0.bin.corrupt-5')).length, 13);
  assertRun(binlog(cwd, ['verify', 'logs/events.bin']), 0, 'ok: 2 files, 2 records, 12 bytes\n');
  assertRun(binlog(cwd, ['cat', 'logs/events.bin']), 0, 'a\ncur\n');
  assertRun(binlog(cwd, ['repair', 'logs/events.bin', '-y']), 0, 'nothing to repair: logs/events.bin is sound\n');

  // What cannot be repaired is listed, and the exit status says so.
  writeFileSync(join(logs, 'events.4.bin'), frame('e'));
  assertRun(
    binlog(cwd, ['repair', 'logs/events.bin', '--yes']),
    1,
    'cannot repair: logs/events.1.bin:0: numbering-gap: backups 1 to 3 are missing (between 0 and 4); readers read through the gap\n',
  );
});

test('repair and write refuse a log that a logger has open, and change nothing', (t) => {
  const cwd = tempDir(t);
  const path = join(cwd, 'events.bin');
  using logger = new BinaryLogger(path, 1000);
  logger.write('mine');
  writeFileSync(join(cwd, 'events.0.bin'), Buffer.from([0, 0, 0, 7]));
  for (const args of [['repair', 'events.bin', '--yes'], ['write', 'events.bin', '--max-size', '10']]) {
    const r = binlog(cwd, args, 'theirs\n');
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^binlog ${args[0]}: ERR_LOGGER_PATH_IN_USE: Another BinaryLogger has the log ".*events\\.bin" open`));
    assert.equal(r.stderr.split('\n').length, 2, 'one line');
  }
  assert.deepEqual(readFileSync(path), frame('mine'));
  assert.deepEqual(readFileSync(join(cwd, 'events.0.bin')), Buffer.from([0, 0, 0, 7]));
});

test('write after a crash cuts the torn tail with a warning in binlog\'s words', (t) => {
  const cwd = tempDir(t);
  writeFileSync(join(cwd, 'events.bin'), Buffer.concat([frame('kept'), Buffer.from([0, 0, 0, 9, 1])]));
  const r = binlog(cwd, ['write', 'events.bin', '--max-size', '1000'], 'new\n');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^binlog write: warning: Cut a torn tail of 5 bytes off ".*events\.bin" at byte 8; the bytes are kept in ".*events\.bin\.corrupt-8" \(BINLOG_TORN_TAIL\)\n$/);
  assertRun(binlog(cwd, ['cat', 'events.bin']), 0, 'kept\nnew\n');
});

test('tail -f prints the last records, then follows appends across rollovers until interrupted', async (t) => {
  const cwd = tempDir(t);
  const path = join(cwd, 'events.bin');
  {
    using logger = new BinaryLogger(path, 12);
    for (const r of ['one', 'two', 'three']) logger.write(r);
  }
  const child = spawn(process.execPath, [CLI, 'tail', 'events.bin', '-n', '2', '-f'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const until = async (text: string): Promise<void> => {
    for (let i = 0; i < 400 && stdout !== text; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(stdout, text);
  };
  await until('two\nthree\n');
  {
    // maxFileSize 12: every second record rolls over, so following crosses several backups.
    using logger = new BinaryLogger(path, 12);
    for (const r of ['four', 'five', 'six', 'seven', 'eight']) logger.write(r);
  }
  await until('two\nthree\nfour\nfive\nsix\nseven\neight\n');
  child.kill('SIGINT');
  assert.equal(await closed, 0);
  assert.equal(stderr, '');
  assert.equal(stdout, 'two\nthree\nfour\nfive\nsix\nseven\neight\n', 'nothing missed or repeated');
});

test('demo writes the 40 events with rollover and reads them back', (t) => {
  const cwd = tempDir(t);
  const r = binlog(cwd, ['demo', '--max-size', '500']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Wrote 40 events to logs\/events\.bin \(maxFileSize 500\)\n/);
  assert.match(r.stdout, /\n39: User logout: user123\n/);
  assert.deepEqual(readdirSync(join(cwd, 'logs')).sort(), ['events.0.bin', 'events.1.bin', 'events.bin']);
});

/** Every file under `dir` (recursively) with its bytes: what "unchanged" means. */
const DEMO_REFUSAL = (what: string, rerun: string): string =>
  `binlog demo: ${what} and the demo never deletes records it did not write; nothing was changed. ` +
  `To delete that log and run the demo again: ${rerun}\n`;

test('demo refuses a log that already holds bytes, names --force, and changes no byte', async (t) => {
  const cases: Array<{ title: string; files: Record<string, Buffer>; args: string[]; refusal: string }> = [
    {
      title: 'a current file of someone else',
      files: { 'logs/events.bin': frame('mine') },
      args: [],
      refusal: DEMO_REFUSAL('logs/events.bin already holds a log (1 file, 8 bytes)', 'binlog demo --force'),
    },
    {
      title: 'only a backup, with no current file',
      files: { 'logs/events.3.bin': frame('old', 'older') },
      args: [],
      refusal: DEMO_REFUSAL('logs/events.bin already holds a log (1 file, 16 bytes)', 'binlog demo --force'),
    },
    {
      title: 'a log at --path, with an empty current file and a backup',
      files: { 'x/e.bin': Buffer.alloc(0), 'x/e.0.bin': frame('a') },
      args: ['--path', 'x/e.bin'],
      refusal: DEMO_REFUSAL('x/e.bin already holds a log (2 files, 5 bytes)', 'binlog demo --path x/e.bin --force'),
    },
  ];
  for (const c of cases) {
    const cwd = tempDir(t);
    for (const [name, bytes] of Object.entries(c.files)) {
      mkdirSync(dirname(join(cwd, name)), { recursive: true });
      writeFileSync(join(cwd, name), bytes);
    }
    const before = snapshot(cwd);
    assertRun(binlog(cwd, ['demo', ...c.args]), 1, '', c.refusal);
    assert.deepEqual(snapshot(cwd), before, `${c.title}: every byte as it was`);
    // --force: today's behaviour, the old log's files replaced by the demo's.
    const forced = binlog(cwd, ['demo', ...c.args, '--force']);
    assert.equal(forced.code, 0, `${c.title}: ${forced.stderr}`);
    assert.equal(forced.stderr, '', c.title);
    const path = join(cwd, c.args[1] ?? 'logs/events.bin');
    assert.deepEqual([...readLog(path)].length, 40, c.title);
    assert.deepEqual([...readLog(path)].slice(0, 2), ['User login: user123', 'Action performed: file_upload'], c.title);
  }
});

test('demo twice: the second run refuses and says how to rerun, through npm start too', (t) => {
  const cwd = demoLog(t);
  const before = snapshot(cwd);
  const what = 'logs/events.bin already holds a log (2 files, 1100 bytes)';
  assertRun(binlog(cwd, ['demo']), 1, '', DEMO_REFUSAL(what, 'binlog demo --force'));
  const npmStart = binlog(cwd, ['demo'], '', { ...process.env, npm_lifecycle_event: 'start' });
  assertRun(npmStart, 1, '', DEMO_REFUSAL(what, 'npm start -- --force'));
  assert.deepEqual(snapshot(cwd), before);
  // Empty files hold no records: the demo goes ahead over them.
  const empty = tempDir(t);
  mkdirSync(join(empty, 'logs'));
  writeFileSync(join(empty, 'logs', 'events.bin'), '');
  writeFileSync(join(empty, 'logs', 'events.0.bin'), '');
  assert.equal(binlog(empty, ['demo']).code, 0);
  assert.deepEqual(readdirSync(join(empty, 'logs')).sort(), ['events.0.bin', 'events.bin']);
  assert.equal([...readLog(join(empty, 'logs', 'events.bin'))].length, 40);
});

test('a path with no log (no current file, no backup) exits 1 naming it, in every reading command', async (t) => {
  const cwd = tempDir(t);
  mkdirSync(join(cwd, 'logs'));
  writeFileSync(join(cwd, 'logs', 'events.bin.corrupt-4'), 'not a backup');
  const commands = ['cat', 'tail', 'stats', 'verify', 'repair'];
  const runs = await Promise.all(commands.map((c) => binlogAsync(cwd, [c, 'logs/events.bin'])));
  for (const [i, c] of commands.entries()) {
    assertRun(runs[i]!, 1, '', `binlog ${c}: no log at logs/events.bin: no current file and no backups\n`);
  }
  assert.deepEqual(readdirSync(join(cwd, 'logs')), ['events.bin.corrupt-4'], 'nothing created');
});

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\n';

test('verify and stats on a file that is not a log exit 1 naming the file and offset 0', (t) => {
  const cwd = tempDir(t);
  writeFileSync(join(cwd, 'passwd'), PASSWD);
  const v = binlog(cwd, ['verify', 'passwd']);
  assert.equal(v.code, 1);
  assert.match(v.stdout, /^passwd:0: /);
  const s = binlog(cwd, ['stats', 'passwd']);
  assert.equal(s.code, 1);
  assert.match(s.stderr, /^binlog stats: 1 problem found/);
  assert.equal(readFileSync(join(cwd, 'passwd'), 'utf8'), PASSWD);
});

// The readers report a first header of an impossible length (0x726f6f74 here, 'root') as
// CorruptLogError with reason 'bad-length' only once the reader branch lands; until then
// they read the file as an empty log whose current file is a torn tail.
test('cat and tail on a file that is not a log say so, naming the file and offset, and exit 1', async (t) => {
  const cwd = tempDir(t);
  writeFileSync(join(cwd, 'passwd'), PASSWD);
  for (const args of [['cat', 'passwd'], ['tail', 'passwd', '-n', '1']]) {
    const r = binlog(cwd, args);
    assert.deepEqual({ code: r.code, stdout: r.stdout }, { code: 1, stdout: '' }, args.join(' '));
    assert.match(
      r.stderr,
      new RegExp(`^binlog ${args[0]}: not a binary log: passwd at byte 0 does not start with a record any writer could have written \\(.*passwd.*\\)\n$`),
    );
  }
  assert.equal(readFileSync(join(cwd, 'passwd'), 'utf8'), PASSWD);
});

test("the README's CLI table is the one binlog help --markdown renders, between its markers", (t) => {
  const table = cliMarkdownTable();
  assertRun(binlog(tempDir(t), ['help', '--markdown']), 0, `${table}\n`);
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const between = /<!-- cli:start -->\n([^]*?)\n<!-- cli:end -->/.exec(readme);
  assert.ok(between, 'README.md has <!-- cli:start --> and <!-- cli:end --> markers');
  assert.equal(between[1], table, "README's CLI table drifted: paste the output of 'node dist/cli/index.js help --markdown'");
});

test("each command's synopsis (the README's row) and --help name every option the command takes", async (t) => {
  assert.deepEqual(COMMAND_SPECS.map((c) => c.name), COMMANDS);
  const cwd = tempDir(t);
  const helps = await Promise.all(COMMANDS.map((c) => binlogAsync(cwd, ['help', c])));
  for (const [i, c] of COMMAND_SPECS.entries()) {
    assertRun(helps[i]!, 0, `${c.usage}\n`);
    // A long usage line wraps at 80 columns; unwrapped, it is the synopsis.
    assert.ok(c.usage.replace(/\n {16}/g, ' ').startsWith(`Usage: binlog ${c.synopsis}\n\n`), c.name);
    for (const [name, option] of Object.entries(c.options)) {
      const flags = [`--${name}`, ...(option.short ? [`-${option.short}`] : [])];
      assert.ok(flags.some((f) => c.synopsis.includes(f)), `${c.name}: synopsis misses ${flags.join('/')}`);
      for (const f of flags) assert.ok(c.usage.includes(f), `${c.name}: --help misses ${f}`);
    }
  }
  assertRun(binlog(cwd, ['help']), 0, `${mainUsage()}\n`);
  assertRun(binlog(cwd, ['help', 'frob']), 2, '', "binlog help: takes one of cat, tail, stats, verify, repair, write, ship, pull, demo, or --markdown; try 'binlog --help'\n");
});

test('write splits its input into the same items whatever the chunks: one byte at a time or all at once', async () => {
  const input = Buffer.from('one\ntwo\n\nthree\r\nlast');
  const expected = ['one', 'two', '', 'three\r', 'last'].map((s) => Buffer.from(s));
  const collect = async (chunks: Buffer[], separator: number): Promise<Buffer[]> => {
    const items: Buffer[] = [];
    // Copies: an item may be a view of its chunk.
    for await (const item of splitItems((async function* () { yield* chunks; })(), separator)) items.push(Buffer.from(item));
    return items;
  };
  assert.deepEqual(await collect([input], 0x0a), expected);
  assert.deepEqual(await collect([...input].map((b) => Buffer.from([b])), 0x0a), expected);
  assert.deepEqual(await collect([input.subarray(0, 5), input.subarray(5, 6), input.subarray(6)], 0x0a), expected);
  assert.deepEqual(await collect([Buffer.from('a\0b\0')], 0x00), [Buffer.from('a'), Buffer.from('b')], 'a last separator ends no extra item');
  assert.deepEqual(await collect([], 0x0a), []);
});
