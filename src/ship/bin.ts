#!/usr/bin/env node
/**
 * Temporary entry point for `ship` and `pull` until they join the CLI's
 * command table (the lead wires shipCommand and pullCommand in at merge):
 * `node dist/ship/bin.js ship|pull ...`.
 */
import { pullCommand } from './cli-pull.js';
import { shipCommand } from './cli-ship.js';

const commands = { ship: shipCommand, pull: pullCommand };
const [name, ...rest] = process.argv.slice(2);
const command = name === 'ship' || name === 'pull' ? commands[name] : undefined;
if (!command) {
  process.stderr.write('Usage: bin.js ship|pull ... (try --help after the command)\n');
  process.exitCode = 2;
} else {
  process.exitCode = await command.run(rest);
}
