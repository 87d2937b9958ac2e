#!/usr/bin/env node
/** The `binlog` executable: runs main() and sets the exit status. */
import { EXIT_PROBLEM } from './command.js';
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`binlog: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = EXIT_PROBLEM;
  },
);
