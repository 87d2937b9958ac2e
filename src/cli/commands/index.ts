/** Every binlog command, in the order help lists them. */
import type { Command } from '../command.js';
import { cat } from './cat.js';
import { demo } from './demo.js';
import { pull } from './pull.js';
import { repair } from './repair.js';
import { ship } from './ship.js';
import { stats } from './stats.js';
import { tail } from './tail.js';
import { verify } from './verify.js';
import { write } from './write.js';

export const COMMANDS: readonly Command[] = [cat, tail, stats, verify, repair, write, ship, pull, demo];

/** The command called `name`, if there is one. */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
