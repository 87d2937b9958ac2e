/**
 * The writer's public face; its parts live in src/writer/ (see
 * src/writer/logger.ts for the map). Kept so that `./writer.js` imports
 * elsewhere keep working.
 */
export { BinaryLogger } from './writer/logger.js';
export { DURABILITIES, type BinaryLoggerOptions, type Durability } from './writer/options.js';
export type { BinaryLoggerEvents } from './writer/events.js';
